// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// Traces and metrics get the same dimensions, sources and precedence as
// logs, and no Level.
func TestTracesGolden(t *testing.T) {
	cases := []goldenCase{
		{config: "", input: "cicd"},
		{config: "overwrite", input: "cicd"},
		{config: "traces_drop", input: "cicd"},
		{config: "metrics_exclude", input: "cicd"},
		{config: "", input: "cicd", env: azureMLJob},
	}
	runGolden(t, "traces", cases, golden.ReadTraces, golden.WriteTraces,
		func(ctx context.Context, cfg *Config, in ptrace.Traces) ptrace.Traces {
			sink := new(consumertest.TracesSink)
			p, err := NewFactory().CreateTraces(ctx, processortest.NewNopSettings(metadata.Type), cfg, sink)
			require.NoError(t, err)
			require.NoError(t, p.ConsumeTraces(ctx, in))
			require.NoError(t, p.Shutdown(ctx))
			require.Len(t, sink.AllTraces(), 1)
			return sink.AllTraces()[0]
		},
		func(want, got ptrace.Traces) error { return ptracetest.CompareTraces(want, got) })
}

func TestMetricsGolden(t *testing.T) {
	cases := []goldenCase{
		{config: "", input: "cicd"},
		{config: "metrics_exclude", input: "cicd"},
		{config: "drop", input: "cicd"},
		{config: "", input: "cicd", env: azureMLJob},
	}
	runGolden(t, "metrics", cases, golden.ReadMetrics,
		func(tb testing.TB, path string, md pmetric.Metrics) error {
			return golden.WriteMetrics(tb, path, md, golden.SkipMetricTimestampNormalization())
		},
		func(ctx context.Context, cfg *Config, in pmetric.Metrics) pmetric.Metrics {
			sink := new(consumertest.MetricsSink)
			p, err := NewFactory().CreateMetrics(ctx, processortest.NewNopSettings(metadata.Type), cfg, sink)
			require.NoError(t, err)
			require.NoError(t, p.ConsumeMetrics(ctx, in))
			require.NoError(t, p.Shutdown(ctx))
			require.Len(t, sink.AllMetrics(), 1)
			return sink.AllMetrics()[0]
		},
		// WriteMetrics sorts what it writes; the order is not what is tested.
		func(want, got pmetric.Metrics) error {
			return pmetrictest.CompareMetrics(want, got, pmetrictest.IgnoreResourceMetricsOrder(),
				pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreMetricDataPointsOrder())
		})
}
