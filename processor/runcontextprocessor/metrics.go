// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// processMetrics treats each data point as a record. The exporter copies
// resource attributes and the point's attributes into each metric envelope.
func (sp *signalProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	p := sp.plan
	if p == nil {
		return md, errNotStarted
	}
	st := p.newConsumeState(ctx)
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		p.resolveResource(rm.Resource().Attributes(), st)
		dropped := st.dropped
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			before := st.dropped
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				beforeMetric := st.dropped
				return !p.applyDataPoints(m, st) && st.dropped > beforeMetric
			})
			return st.dropped > before && sm.Metrics().Len() == 0
		})
		return st.dropped > dropped && rm.ScopeMetrics().Len() == 0
	})
	return md, sp.reportTelemetry(ctx, st, md.ResourceMetrics().Len() == 0)
}

// applyDataPoints applies the plan to every data point of m, whatever its
// type, and reports whether any point is left.
func (p *plan) applyDataPoints(m pmetric.Metric, st *consumeState) bool {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps := m.Gauge().DataPoints()
		dps.RemoveIf(func(dp pmetric.NumberDataPoint) bool { return !p.applyRecord(dp.Attributes(), st) })
		return dps.Len() > 0
	case pmetric.MetricTypeSum:
		dps := m.Sum().DataPoints()
		dps.RemoveIf(func(dp pmetric.NumberDataPoint) bool { return !p.applyRecord(dp.Attributes(), st) })
		return dps.Len() > 0
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		dps.RemoveIf(func(dp pmetric.HistogramDataPoint) bool { return !p.applyRecord(dp.Attributes(), st) })
		return dps.Len() > 0
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		dps.RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool { return !p.applyRecord(dp.Attributes(), st) })
		return dps.Len() > 0
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		dps.RemoveIf(func(dp pmetric.SummaryDataPoint) bool { return !p.applyRecord(dp.Attributes(), st) })
		return dps.Len() > 0
	}
	// A metric without a type has no points to look at.
	return true
}
