// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// processTraces treats each span as a record. The exporter copies resource
// attributes into every request, dependency and span event it makes.
func (rcp *runContextProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	p := rcp.plan
	b := p.newBatch(ctx)
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		p.resolveResource(rs.Resource().Attributes(), b)
		dropped := b.dropped
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			before := b.dropped
			ss.Spans().RemoveIf(func(span ptrace.Span) bool {
				return !p.applyRecord(span.Attributes(), b)
			})
			return b.dropped > before && ss.Spans().Len() == 0
		})
		return b.dropped > dropped && rs.ScopeSpans().Len() == 0
	})
	return td, rcp.record(ctx, b, td.ResourceSpans().Len() == 0)
}
