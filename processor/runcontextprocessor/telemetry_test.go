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
