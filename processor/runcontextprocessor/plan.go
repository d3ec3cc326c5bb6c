// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"fmt"
	"slices"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// plan is the configuration resolved once at start: every dimension with
// its sources in precedence order, templates bound to dimension indices,
// and what needs per-record work. The hot path only executes it.
type plan struct {
	// dims is in dependency order: a templated dimension comes after every
	// dimension its template names.
	dims []dimension
	// recordScoped indexes the dimensions whose value may differ between
	// records of one resource, in dependency order.
	recordScoped []int
	// required indexes the dimensions every record must have.
	required []int
	// written counts the dimensions written to the telemetry, to reserve
	// room for them in a resource's attributes at once.
	written int

	overwrite bool
	onMissing MissingAction
	fillValue string
	// metadataKeys are the client metadata keys any source reads; a
	// clientMetadata source's index points into them.
	metadataKeys []string

	// severityKey receives the Python level name; empty when off.
	severityKey  string
	codeLocation bool
	// opencensus writes AzureLogHandler's level next to severityKey.
	opencensus bool
	// maxCustomDimensions bounds the custom_dimensions entries flattened;
	// 0 leaves the map.
	maxCustomDimensions int

	// excluded names the dimensions kept off this signal, whether or not a
	// source provides them: the telemetry may carry them itself.
	excluded []string
}

// writes reports whether the dimension is written to the telemetry.
func (d *dimension) writes() bool { return !d.hidden && !d.excluded }

// dimension is one output name and where its value comes from.
type dimension struct {
	name string
	// hidden marks a source named inside a template: it is resolved like a
	// dimension so the template can use it, but never written out.
	hidden bool
	// excluded marks a dimension kept off this signal: resolved for
	// templates, never written, and removed where the telemetry has it.
	excluded bool
	sources  []source
	// recordScoped is set when a record may have a value of its own: a
	// source reads record attributes, or a template depends on one that does.
	recordScoped bool
	// overwrite replaces a value the telemetry carries under the name: the
	// overwrite option, or an authoritative environment's dimension.
	overwrite bool
}

// newPlan resolves cfg and the run context the detectors found, for a
// signal whose excluded dimensions are exclude.
func newPlan(cfg *Config, exclude []string, found []detected) (*plan, error) {
	templates, err := compileTemplates(cfg.Dimensions, cfg.knownDimensions())
	if err != nil {
		return nil, err
	}

	b := planBuilder{
		byName:        make(map[string]int),
		sources:       make(map[string][]source),
		templates:     templates,
		authoritative: make(map[string]bool),
	}

	// Precedence: explicit configuration first, then detectors in order.
	for _, name := range sortedKeys(cfg.Dimensions) {
		d := cfg.Dimensions[name]
		for _, ref := range d.From {
			src, err := parseSource(ref)
			if err != nil {
				return nil, fmt.Errorf("dimensions::%s: %w", name, err)
			}
			b.add(name, src)
		}
		if d.Value != "" {
			b.add(name, source{kind: fixedValue, key: d.Value})
		}
		if t := templates[name]; t != nil {
			b.add(name, source{kind: templated, tmpl: t})
		}
	}
	// Then what the telemetry carries before the environment, unless the
	// environment is authoritative.
	first, second := detector.Telemetry, detector.Environment
	if cfg.EnvironmentAuthoritative {
		first, second = second, first
	}
	for _, kind := range []detector.Kind{first, second} {
		for _, d := range found {
			if d.kind != kind {
				continue
			}
			for _, name := range sortedKeys(d.context) {
				for _, ref := range d.context[name].From {
					src, err := parseSource(ref)
					if err != nil {
						return nil, fmt.Errorf("detector %s, dimension %s: %w", d.name, name, err)
					}
					b.add(name, src)
				}
				if v := d.context[name].Value; v != "" {
					b.add(name, source{kind: fixedValue, key: v})
					if cfg.EnvironmentAuthoritative && kind == detector.Environment {
						b.authoritative[name] = true
					}
				}
			}
		}
	}
	// A required dimension that no source provides can still come with the
	// record itself; it needs a place in the plan to be checked.
	for _, name := range cfg.Required {
		b.declare(name)
	}

	p := &plan{
		excluded:            slices.Clone(exclude),
		overwrite:           cfg.Overwrite,
		onMissing:           cfg.OnMissing,
		fillValue:           cfg.FillValue,
		severityKey:         cfg.SeverityDimension,
		codeLocation:        cfg.CodeLocation || cfg.OpenCensus,
		opencensus:          cfg.OpenCensus,
		maxCustomDimensions: cfg.MaxCustomDimensions,
	}
	for _, name := range b.order {
		b.visit(p, name, false)
	}
	for i := range p.dims {
		d := &p.dims[i]
		d.excluded = !d.hidden && slices.Contains(exclude, d.name)
		if d.writes() {
			p.written++
		}
		for j := range d.sources {
			if src := &d.sources[j]; src.kind == clientMetadata {
				src.index = slices.Index(p.metadataKeys, src.key)
				if src.index < 0 {
					src.index = len(p.metadataKeys)
					p.metadataKeys = append(p.metadataKeys, src.key)
				}
			}
		}
		// A record's own value of an overwritten dimension must be
		// replaced, so such a dimension is looked at per record.
		if d.recordScoped || d.overwrite {
			p.recordScoped = append(p.recordScoped, i)
		}
	}
	for _, name := range cfg.Required {
		p.required = append(p.required, b.byName[name])
	}
	return p, nil
}

// planBuilder gathers sources by dimension name, then lays the dimensions
// out in dependency order.
type planBuilder struct {
	order     []string
	byName    map[string]int
	sources   map[string][]source
	templates map[string]*template
	// authoritative names the dimensions an authoritative environment
	// provides: they replace what the telemetry carries.
	authoritative map[string]bool
}

func (b *planBuilder) declare(name string) {
	if _, ok := b.sources[name]; !ok {
		b.sources[name] = nil
		b.order = append(b.order, name)
	}
}

func (b *planBuilder) add(name string, src source) {
	b.declare(name)
	b.sources[name] = append(b.sources[name], src)
}

// visit appends name to the plan after everything its templates reference.
// Templates were checked for cycles and unknown names by compileTemplates.
func (b *planBuilder) visit(p *plan, name string, hidden bool) int {
	if i, ok := b.byName[name]; ok {
		return i
	}
	d := dimension{name: name, hidden: hidden, overwrite: !hidden && (p.overwrite || b.authoritative[name])}
	if hidden {
		src, _ := parseSource(name) // checked by compileTemplates
		d.sources = []source{src}
		d.recordScoped = src.kind == recordAttribute
	}
	for _, src := range b.sources[name] {
		if src.kind == recordAttribute {
			d.recordScoped = true
		}
		if src.kind != templated {
			d.sources = append(d.sources, src)
			continue
		}
		// Bind a copy of the template to dimension indices of this plan.
		t := &template{literalLen: src.tmpl.literalLen, segments: append([]segment(nil), src.tmpl.segments...)}
		for j := range t.segments {
			s := &t.segments[j]
			if s.ref == "" {
				continue
			}
			s.dim = b.visit(p, s.ref, isSourceRef(s.ref))
			ref := &p.dims[s.dim]
			// Unless it is overwritten, a record's own value of a dimension
			// wins, so a template over it must see the record's value.
			if !ref.hidden && !ref.overwrite {
				ref.recordScoped = true
			}
			if ref.recordScoped {
				d.recordScoped = true
			}
		}
		d.sources = append(d.sources, source{kind: templated, tmpl: t})
	}
	p.dims = append(p.dims, d)
	b.byName[name] = len(p.dims) - 1
	return len(p.dims) - 1
}
