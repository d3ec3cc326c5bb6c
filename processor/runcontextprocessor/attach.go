// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The placement of values: a value that is the same for every record of a
// resource (from resource attributes, request metadata, fixed values, or
// templates over those) is written once to the resource's attributes, which
// the Azure Monitor exporter copies into every envelope's properties. Only a
// value that differs per record is written to the record's attributes, which
// the exporter applies after the resource's, so it wins there too.

// batch is the scratch state of one Consume call.
type batch struct {
	// metadata holds the request's value of each of plan.metadataKeys:
	// they are the same for every resource of the request.
	metadata []string
	// resource holds each dimension's value for records of the current
	// resource that bring none of their own.
	resource []string
	// found is the index of the source that gave the resource value,
	// ownValue when the telemetry carried the dimension itself, or
	// len(sources) when nothing did.
	found []int
	// record holds each dimension's value for the current record.
	record []string

	processed int64
	dropped   int64
	// missing counts records lacking each required dimension.
	missing []int64
}

// ownValue marks a value the resource carried under the dimension's name.
const ownValue = -1

func (p *plan) newBatch(ctx context.Context) *batch {
	n := len(p.dims)
	b := &batch{
		resource: make([]string, n),
		found:    make([]int, n),
		missing:  make([]int64, len(p.required)),
	}
	// When no dimension can differ per record, a record's values are its
	// resource's: share them rather than copy them for every record.
	b.record = b.resource
	if len(p.recordScoped) > 0 {
		b.record = make([]string, n)
	}
	if len(p.metadataKeys) > 0 {
		md := client.FromContext(ctx).Metadata
		b.metadata = make([]string, len(p.metadataKeys))
		for i, key := range p.metadataKeys {
			b.metadata[i] = firstNonEmpty(md.Get(key))
		}
	}
	return b
}

// resolveResource computes every dimension's value for the records of one
// resource and writes the values to the resource's attributes.
func (p *plan) resolveResource(attrs pcommon.Map, b *batch) {
	for _, name := range p.excluded {
		attrs.Remove(name)
	}
	for i := range p.dims {
		d := &p.dims[i]
		b.resource[i], b.found[i] = "", len(d.sources)
		if d.writes() {
			if v, ok := attrs.Get(d.name); ok {
				// The exporter sends a non-string resource attribute as an
				// empty string: keep the value, as a string.
				if v.Type() != pcommon.ValueTypeStr {
					v.SetStr(v.AsString())
				}
				if s := v.Str(); s != "" && !d.overwrite {
					b.resource[i], b.found[i] = s, ownValue
					continue
				}
			}
		}
		for j, src := range d.sources {
			var s string
			switch src.kind {
			case recordAttribute:
				continue
			case resourceAttribute:
				if v, ok := attrs.Get(src.key); ok {
					s = v.AsString()
				}
			case clientMetadata:
				s = b.metadata[src.index]
			case fixedValue:
				s = src.key
			case templated:
				s = src.tmpl.render(b.resource)
			}
			if s != "" {
				b.resource[i], b.found[i] = s, j
				break
			}
		}
		if d.writes() && b.resource[i] != "" {
			putStrIfChanged(attrs, d.name, b.resource[i])
		}
	}
}

// applyRecord resolves the dimensions that may differ for this record, and
// checks the required ones. It returns false when the record is to be dropped.
func (p *plan) applyRecord(attrs pcommon.Map, b *batch) bool {
	b.processed++
	for _, name := range p.excluded {
		attrs.Remove(name)
	}
	if len(p.recordScoped) > 0 {
		copy(b.record, b.resource)
		for _, i := range p.recordScoped {
			p.resolveRecordDimension(i, attrs, b)
		}
	}
	return p.checkRequired(attrs, b)
}

func (p *plan) resolveRecordDimension(i int, attrs pcommon.Map, b *batch) {
	d := &p.dims[i]
	var own pcommon.Value
	var hasOwn bool
	if d.writes() {
		own, hasOwn = attrs.Get(d.name)
		if hasOwn && !d.overwrite {
			if s := own.AsString(); s != "" {
				b.record[i] = s
				return
			}
		}
	}
	// Walk the sources up to the one that gave the resource value: only a
	// record attribute, or a template over values that differ for this
	// record, can give this record a value of its own.
	for j := 0; j < len(d.sources) && j <= b.found[i]; j++ {
		src := d.sources[j]
		var s string
		switch src.kind {
		case recordAttribute:
			if v, ok := attrs.Get(src.key); ok {
				s = v.AsString()
			}
		case templated:
			if src.tmpl.differs(b.record, b.resource) {
				s = src.tmpl.render(b.record)
			} else if j == b.found[i] {
				s = b.resource[i]
			}
		default:
			if j == b.found[i] {
				s = b.resource[i]
			}
		}
		if s == "" {
			continue
		}
		b.record[i] = s
		if d.writes() && (s != b.resource[i] || hasOwn) {
			putStrIfChanged(attrs, d.name, s)
		}
		return
	}
}

// checkRequired counts the required dimensions this record lacks and acts
// as on_missing says. It returns false when the record is to be dropped.
func (p *plan) checkRequired(attrs pcommon.Map, b *batch) bool {
	keep := true
	for k, i := range p.required {
		if b.record[i] != "" {
			continue
		}
		name := p.dims[i].name
		if v, ok := attrs.Get(name); ok && v.AsString() != "" {
			continue
		}
		b.missing[k]++
		switch p.onMissing {
		case MissingDrop:
			keep = false
		case MissingFill:
			attrs.PutStr(name, p.fillValue)
		}
	}
	if !keep {
		b.dropped++
	}
	return keep
}

// copyToRecord writes every resolved dimension to the record itself, for
// consumers that ignore resource attributes.
func (p *plan) copyToRecord(attrs pcommon.Map, b *batch) {
	for i := range p.dims {
		d := &p.dims[i]
		if !d.writes() || b.record[i] == "" {
			continue
		}
		if _, ok := attrs.Get(d.name); ok && !d.overwrite {
			continue
		}
		putStrIfChanged(attrs, d.name, b.record[i])
	}
}

// differs reports whether any value the template names differs between the
// record and its resource, that is whether rendering for the record could
// give another result.
func (t *template) differs(record, resource []string) bool {
	for _, s := range t.segments {
		if s.ref != "" && record[s.dim] != resource[s.dim] {
			return true
		}
	}
	return false
}

// putStrIfChanged writes v unless the map holds exactly that string already:
// rewriting an equal value would allocate for nothing.
func putStrIfChanged(attrs pcommon.Map, k, v string) {
	if cur, ok := attrs.Get(k); ok && cur.Type() == pcommon.ValueTypeStr && cur.Str() == v {
		return
	}
	attrs.PutStr(k, v)
}

func firstNonEmpty(values []string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
