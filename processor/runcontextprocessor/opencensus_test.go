// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadatatest"
)

// A record as the OpenTelemetry Python SDK (1.45) sends
// logger.warning("...", extra={"custom_dimensions": {...}}) from line 26
// of sample_step.py.
func openCensusStyleRecord() plog.Logs {
	logs := plog.NewLogs()
	lr := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.Body().SetStr("validation loss increased")
	attrs := lr.Attributes()
	attrs.PutStr("code.file.path", "/work/steps/sample_step.py")
	attrs.PutInt("code.line.number", 26)
	attrs.PutStr("code.function.name", "<module>")
	dims := attrs.PutEmptyMap("custom_dimensions")
	dims.PutStr("parent_run_id", "run-from-the-step")
	dims.PutStr("dataset", "train.csv")
	dims.PutInt("epoch", 3)
	dims.PutStr("code.function.name", "not this one")
	return logs
}

// custom_dimensions' entries become dimensions of their own: an attribute
// the record has wins over an entry of the same name, and a run-context
// dimension among them is the record's own, kept over the environment's
// (as any value a record carries).
func TestCustomDimensionsAreFlattened(t *testing.T) {
	out := processOnce(t, logsPipeline, context.Background(),
		map[string]string{"AZUREML_ROOT_RUN_ID": "run-from-the-job", "AZUREML_RUN_ID": "step-1"},
		createDefaultConfig().(*Config), openCensusStyleRecord())
	require.Len(t, out, 1)
	attrs := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
	resource := out[0].ResourceLogs().At(0).Resource().Attributes().AsRaw()
	assert.Equal(t, "train.csv", attrs["dataset"])
	assert.Equal(t, "3", attrs["epoch"])
	assert.Equal(t, "<module>", attrs["code.function.name"], "the record's own attribute wins")
	assert.Equal(t, "run-from-the-step", attrs["parent_run_id"], "the step's value, as OpenCensus sent it")
	assert.Equal(t, "step-1", resource["step_id"], "the job's run context where the step gave none (on the resource, which the exporter merges under the record's)")
	assert.NotContains(t, attrs, "custom_dimensions")
}

// At most max_custom_dimensions entries are taken, in key order; the
// others are counted in processor_runcontext_custom_dimensions_dropped.
func TestCustomDimensionsAreBounded(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig().(*Config)
	cfg.MaxCustomDimensions = 2
	consume, out := started(t, logsPipeline, testFactory(nil), metadatatest.NewSettings(tel), cfg)
	require.NoError(t, consume(context.Background(), openCensusStyleRecord()))
	attrs := out()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
	// In key order: code.function.name is the record's own (not counted),
	// dataset and epoch are written, parent_run_id is beyond the bound.
	assert.Equal(t, "train.csv", attrs["dataset"])
	assert.Equal(t, "3", attrs["epoch"])
	assert.NotContains(t, attrs, "parent_run_id")
	metadatatest.AssertEqualProcessorRuncontextCustomDimensionsDropped(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// opencensus: true writes what AzureLogHandler wrote next to Level:
// level, fileName, lineNumber and module, with the values it wrote for
// the same call (internal/e2e/opencensus_test.go compares the two for
// real).
func TestOpenCensusCompatibility(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.OpenCensus = true
	out := processOnce(t, logsPipeline, context.Background(), nil, cfg, openCensusStyleRecord())
	attrs := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	for k, want := range map[string]string{
		"Level":      "WARNING",
		"level":      "WARNING",
		"fileName":   "/work/steps/sample_step.py",
		"lineNumber": "26",
		"module":     "sample_step",
	} {
		v, ok := attrs.Get(k)
		require.True(t, ok, k)
		assert.Equal(t, want, v.AsString(), k)
	}
	// Off by default.
	out = processOnce(t, logsPipeline, context.Background(), nil, createDefaultConfig().(*Config), openCensusStyleRecord())
	_, ok := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("level")
	assert.False(t, ok)
}
