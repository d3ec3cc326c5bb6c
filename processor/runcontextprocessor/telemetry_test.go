// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadatatest"
)

// The cicd input has 11 records; the last resource's one record has a
// parent_run_id of its own but no step_id.
func TestTelemetryCountsMissingAndDropped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config      string
		wantDropped int64
	}{
		{config: "keep", wantDropped: 0},
		{config: "fill", wantDropped: 0},
		{config: "drop", wantDropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			cfg, err := loadConfig(t, tt.config)
			require.NoError(t, err)
			p, consume, _, err := logsPipeline(testFactory(nil), metadatatest.NewSettings(tel), cfg)
			require.NoError(t, err)
			require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
			input, err := golden.ReadLogs(filepath.Join("testdata", "logs", "cicd_input.yaml"))
			require.NoError(t, err)
			require.NoError(t, consume(context.Background(), input))
			require.NoError(t, p.Shutdown(context.Background()))

			metadatatest.AssertEqualProcessorRuncontextRecordsProcessed(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 11}}, metricdatatest.IgnoreTimestamp())
			metadatatest.AssertEqualProcessorRuncontextRecordsMissingDimension(t, tel,
				[]metricdata.DataPoint[int64]{{Value: 1, Attributes: attribute.NewSet(attribute.String("dimension", "step_id"))}},
				metricdatatest.IgnoreTimestamp())
			if tt.wantDropped > 0 {
				metadatatest.AssertEqualProcessorRuncontextRecordsDropped(t, tel,
					[]metricdata.DataPoint[int64]{{Value: tt.wantDropped}}, metricdatatest.IgnoreTimestamp())
			} else {
				_, err := tel.GetMetric("otelcol_processor_runcontext_records_dropped")
				require.Error(t, err, "nothing dropped, so no dropped metric")
			}
		})
	}
}

// One runcontext component in three pipelines counts each pipeline's
// records with that pipeline's own telemetry (its own signal and pipeline
// attributes in a collector), never with the first pipeline's.
func TestTelemetryIsPerPipeline(t *testing.T) {
	t.Parallel()
	f := testFactory(nil)
	cfg, err := loadConfig(t, "keep")
	require.NoError(t, err)
	tels := map[string]*componenttest.Telemetry{}
	settings := func(signal string) processor.Settings {
		tel := componenttest.NewTelemetry()
		t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
		tels[signal] = tel
		return metadatatest.NewSettings(tel)
	}
	consumeLogs, _ := started(t, logsPipeline, f, settings("logs"), cfg)
	consumeTraces, _ := started(t, tracesPipeline, f, settings("traces"), cfg)
	consumeMetrics, _ := started(t, metricsPipeline, f, settings("metrics"), cfg)

	traces, err := golden.ReadTraces(filepath.Join("testdata", "traces", "cicd_input.yaml"))
	require.NoError(t, err)
	require.NoError(t, consumeTraces(context.Background(), traces))
	metadatatest.AssertEqualProcessorRuncontextRecordsProcessed(t, tels["traces"],
		[]metricdata.DataPoint[int64]{{Value: int64(traces.SpanCount())}}, metricdatatest.IgnoreTimestamp())
	for _, other := range []string{"logs", "metrics"} {
		_, err := tels[other].GetMetric("otelcol_processor_runcontext_records_processed")
		require.Error(t, err, "the %s pipeline processed nothing", other)
	}

	logs, err := golden.ReadLogs(filepath.Join("testdata", "logs", "cicd_input.yaml"))
	require.NoError(t, err)
	require.NoError(t, consumeLogs(context.Background(), logs))
	metrics, err := golden.ReadMetrics(filepath.Join("testdata", "metrics", "cicd_input.yaml"))
	require.NoError(t, err)
	require.NoError(t, consumeMetrics(context.Background(), metrics))
	metadatatest.AssertEqualProcessorRuncontextRecordsProcessed(t, tels["logs"],
		[]metricdata.DataPoint[int64]{{Value: int64(logs.LogRecordCount())}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorRuncontextRecordsProcessed(t, tels["metrics"],
		[]metricdata.DataPoint[int64]{{Value: int64(metrics.DataPointCount())}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorRuncontextRecordsProcessed(t, tels["traces"],
		[]metricdata.DataPoint[int64]{{Value: int64(traces.SpanCount())}}, metricdatatest.IgnoreTimestamp())
}
