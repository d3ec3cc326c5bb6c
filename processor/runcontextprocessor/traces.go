// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// processTraces treats each span as a record. The exporter copies resource
// attributes into every request, dependency and span event it makes.
func (sp *signalProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	p := sp.plan
	if p == nil {
		return td, errNotStarted
	}
	st := p.newConsumeState(ctx)
	td.ResourceSpans().RemoveIf(func(rs ptrace.ResourceSpans) bool {
		p.resolveResource(rs.Resource().Attributes(), st)
		dropped := st.dropped
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool {
			before := st.dropped
			ss.Spans().RemoveIf(func(span ptrace.Span) bool {
				return !p.applyRecord(span.Attributes(), st)
			})
			return st.dropped > before && ss.Spans().Len() == 0
		})
		return st.dropped > dropped && rs.ScopeSpans().Len() == 0
	})
	return td, sp.reportTelemetry(ctx, st, td.ResourceSpans().Len() == 0)
}
