// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"
	"math"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The resolver: the hot path that executes a plan. It works out every
// dimension's value for a resource, then for each record of it.
//
// Placement, the rule the README states ("Where the dimensions are
// written, and why"): a value shared by a resource's records goes on the
// resource, once; only a value that differs per record goes on the record.

// consumeState is the working state of one Consume call.
type consumeState struct {
	// metadata holds the request's value of each of plan.metadataKeys:
	// they are the same for every resource of the request.
	metadata []string
	// resource holds each dimension's value for records of the current
	// resource that bring none of their own.
	resource []string
	// resourceFrom says, per dimension, where the resource value came from:
	// the index of the source that gave it, fromTelemetry or fromNowhere.
	resourceFrom []int
	// record holds each dimension's value for the current record.
	record []string

	processed int64
	dropped   int64
	// customDimensionsDropped counts custom_dimensions entries beyond
	// max_custom_dimensions.
	customDimensionsDropped int64
	// missing counts records lacking each required dimension.
	missing []int64
}

// Where a resource value came from, when it was not one of the
// dimension's sources.
const (
	// fromTelemetry: the resource carried the dimension under its own
	// name, which wins over every source.
	fromTelemetry = -1
	// fromNowhere: neither the resource nor any source gave a value.
	fromNowhere = math.MaxInt
)

func (p *plan) newConsumeState(ctx context.Context) *consumeState {
	n := len(p.dims)
	st := &consumeState{
		resource:     make([]string, n),
		resourceFrom: make([]int, n),
		missing:      make([]int64, len(p.required)),
	}
	// When no dimension can differ per record, a record's values are its
	// resource's: share them rather than copy them for every record.
	st.record = st.resource
	if len(p.recordScoped) > 0 {
		st.record = make([]string, n)
	}
	if len(p.metadataKeys) > 0 {
		md := client.FromContext(ctx).Metadata
		st.metadata = make([]string, len(p.metadataKeys))
		for i, key := range p.metadataKeys {
			st.metadata[i] = firstNonEmpty(md.Get(key))
		}
	}
	return st
}

// resolveResource computes every dimension's value for the records of one
// resource and writes the values to the resource's attributes.
func (p *plan) resolveResource(attrs pcommon.Map, st *consumeState) {
	// Reserve room for every written dimension at once: growing the
	// attribute slice one dimension at a time allocates several times.
	attrs.EnsureCapacity(attrs.Len() + p.written)
	for i := range p.dims {
		d := &p.dims[i]
		st.resource[i], st.resourceFrom[i] = "", fromNowhere
		// The telemetry's own value wins, on every signal: an excluded
		// dimension is not written, but a template over it must still see
		// the value the telemetry brings, as on the other signals.
		if !d.hidden {
			if v, ok := attrs.Get(d.name); ok {
				// The exporter sends a non-string resource attribute as an
				// empty string: keep the value, as a string.
				if v.Type() != pcommon.ValueTypeStr {
					v.SetStr(v.AsString())
				}
				if s := v.Str(); s != "" && !d.overwrite {
					st.resource[i], st.resourceFrom[i] = s, fromTelemetry
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
				s = st.metadata[src.index]
			case fixedValue:
				s = src.key
			case templated:
				s = src.tmpl.render(st.resource)
			}
			if s != "" {
				st.resource[i], st.resourceFrom[i] = s, j
				break
			}
		}
		if d.writes() && st.resource[i] != "" {
			putStrIfChanged(attrs, d.name, st.resource[i])
		}
	}
	removeExcluded(attrs, p.excluded)
}

// removeExcluded removes the dimensions kept off this signal where the
// telemetry carries them, once everything that may read them is resolved.
func removeExcluded(attrs pcommon.Map, excluded []string) {
	for _, name := range excluded {
		attrs.Remove(name)
	}
}

// applyRecord resolves the dimensions that may differ for this record, and
// checks the required ones. It returns false when the record is to be dropped.
func (p *plan) applyRecord(attrs pcommon.Map, st *consumeState) bool {
	st.processed++
	if len(p.recordScoped) > 0 {
		copy(st.record, st.resource)
		for _, i := range p.recordScoped {
			p.resolveRecordDimension(i, attrs, st)
		}
	}
	removeExcluded(attrs, p.excluded)
	return p.checkRequired(attrs, st)
}

func (p *plan) resolveRecordDimension(i int, attrs pcommon.Map, st *consumeState) {
	d := &p.dims[i]
	var own pcommon.Value
	var hasOwn bool
	if !d.hidden {
		own, hasOwn = attrs.Get(d.name)
		if hasOwn && !d.overwrite {
			if s := own.AsString(); s != "" {
				st.record[i] = s
				return
			}
		}
	}
	// Walk the sources up to the one that gave the resource value (all of
	// them when none did; none when the resource carried the dimension
	// itself): only a record attribute, or a template over values that
	// differ for this record, can give this record a value of its own.
	from := st.resourceFrom[i]
	for j := 0; j < len(d.sources) && j <= from; j++ {
		src := d.sources[j]
		var s string
		switch src.kind {
		case recordAttribute:
			if v, ok := attrs.Get(src.key); ok {
				s = v.AsString()
			}
		case templated:
			if src.tmpl.differs(st.record, st.resource) {
				s = src.tmpl.render(st.record)
			} else if j == from {
				s = st.resource[i]
			}
		default:
			if j == from {
				s = st.resource[i]
			}
		}
		if s == "" {
			continue
		}
		st.record[i] = s
		if d.writes() && (s != st.resource[i] || hasOwn) {
			putStrIfChanged(attrs, d.name, s)
		}
		return
	}
}

// checkRequired counts the required dimensions this record lacks and acts
// as on_missing says. It returns false when the record is to be dropped.
func (p *plan) checkRequired(attrs pcommon.Map, st *consumeState) bool {
	keep := true
	for k, i := range p.required {
		if st.record[i] != "" {
			continue
		}
		name := p.dims[i].name
		if v, ok := attrs.Get(name); ok && v.AsString() != "" {
			continue
		}
		st.missing[k]++
		switch p.onMissing {
		case MissingDrop:
			keep = false
		case MissingFill:
			attrs.PutStr(name, p.fillValue)
		}
	}
	if !keep {
		st.dropped++
	}
	return keep
}

// copyToRecord writes every resolved dimension to the record itself, for
// consumers that ignore resource attributes.
func (p *plan) copyToRecord(attrs pcommon.Map, st *consumeState) {
	for i := range p.dims {
		d := &p.dims[i]
		if !d.writes() || st.record[i] == "" {
			continue
		}
		if _, ok := attrs.Get(d.name); ok && !d.overwrite {
			continue
		}
		putStrIfChanged(attrs, d.name, st.record[i])
	}
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
