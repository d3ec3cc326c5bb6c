// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/ptracetest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Traces and metrics get the same dimensions, sources and precedence as
// logs, and no Level.
func TestTracesGolden(t *testing.T) {
	t.Parallel()
	cases := []goldenCase{
		{name: "defaults", config: "", input: "cicd"},
		{name: "overwrite", config: "overwrite", input: "cicd"},
		{name: "missing_drop", config: "traces_drop", input: "cicd"},
		{name: "metrics_exclude_leaves_spans", config: "metrics_exclude", input: "cicd"},
		{name: "azureml_environment", config: "", input: "cicd", env: azureMLJob},
	}
	runGolden(t, "traces", cases, golden.ReadTraces, golden.WriteTraces, tracesPipeline,
		func(want, got ptrace.Traces) error { return ptracetest.CompareTraces(want, got) })
}

func TestMetricsGolden(t *testing.T) {
	t.Parallel()
	cases := []goldenCase{
		{name: "defaults", config: "", input: "cicd"},
		{name: "exclude_run_ids", config: "metrics_exclude", input: "cicd"},
		{name: "missing_drop", config: "drop", input: "cicd"},
		{name: "azureml_environment", config: "", input: "cicd", env: azureMLJob},
	}
	runGolden(t, "metrics", cases, golden.ReadMetrics,
		func(tb testing.TB, path string, md pmetric.Metrics) error {
			return golden.WriteMetrics(tb, path, md, golden.SkipMetricTimestampNormalization())
		},
		metricsPipeline,
		// WriteMetrics sorts what it writes; the order is not what is tested.
		func(want, got pmetric.Metrics) error {
			return pmetrictest.CompareMetrics(want, got, pmetrictest.IgnoreResourceMetricsOrder(),
				pmetrictest.IgnoreMetricsOrder(), pmetrictest.IgnoreMetricDataPointsOrder())
		})
}
