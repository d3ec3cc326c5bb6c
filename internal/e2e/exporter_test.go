// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/azuremonitorexporter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"
)

// The processor in front of the real contrib Azure Monitor exporter, in
// one process: every envelope's properties hold every dimension and Level,
// for messages, exceptions and custom events alike.
func TestProcessorThroughTheAzureMonitorExporter(t *testing.T) {
	ingest := ingestiontest.New(t)
	ctx := context.Background()

	expFactory := azuremonitorexporter.NewFactory()
	expCfg := expFactory.CreateDefaultConfig().(*azuremonitorexporter.Config)
	expCfg.ConnectionString = configopaque.String(ingest.ConnectionString())
	expCfg.ExceptionEventsEnabled = true
	expCfg.CustomEventsEnabled = true
	expCfg.MaxBatchInterval = 100 * time.Millisecond
	exp, err := expFactory.CreateLogs(ctx, exportertest.NewNopSettings(expFactory.Type()), expCfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))

	procFactory := runcontextprocessor.NewFactory()
	procCfg := procFactory.CreateDefaultConfig().(*runcontextprocessor.Config)
	procCfg.Dimensions = map[string]runcontextprocessor.DimensionConfig{
		"run_type":  {Value: "training"},
		"build_url": {Template: "https://github.com/org/repo/commit/{build_version}"},
	}
	proc, err := procFactory.CreateLogs(ctx, processortest.NewNopSettings(procFactory.Type()), procCfg, exp)
	require.NoError(t, err)
	require.NoError(t, proc.Start(ctx, componenttest.NewNopHost()))

	require.NoError(t, proc.ConsumeLogs(ctx, stepLogs()))
	require.NoError(t, proc.Shutdown(ctx))

	var envs []ingestion.Envelope
	require.Eventually(t, func() bool {
		envs = ingest.Envelopes(t)
		return len(envs) == 4
	}, 15*time.Second, 50*time.Millisecond, "the exporter delivers all 4 records")
	require.NoError(t, exp.Shutdown(ctx))

	want := trainingRun.dimensions()
	levels := map[string]string{
		"Microsoft.ApplicationInsights.Message":   "",
		"Microsoft.ApplicationInsights.Exception": "ERROR",
		"Microsoft.ApplicationInsights.Event":     "INFO",
	}
	names := map[string]int{}
	for _, e := range envs {
		names[e.Name]++
		props := e.Data.BaseData.Properties
		for dim, v := range want {
			assert.Equal(t, v, props[dim], "%s on %s", dim, e.Name)
		}
		if level := levels[e.Name]; level != "" {
			assert.Equal(t, level, props["Level"], e.Name)
		}
		assert.Contains(t, []string{"INFO", "WARNING", "ERROR"}, props["Level"], e.Name)
	}
	assert.Equal(t, map[string]int{
		"Microsoft.ApplicationInsights.Message":   2,
		"Microsoft.ApplicationInsights.Exception": 1,
		"Microsoft.ApplicationInsights.Event":     1,
	}, names)
}

// stepLogs is one step's batch: its run context in CICD resource
// attributes, two messages, an exception and a custom event.
func stepLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", "train-step")
	ra.PutStr("cicd.pipeline.run.id", trainingRun.parentRunID)
	ra.PutStr("cicd.pipeline.task.run.id", trainingRun.stepID)
	ra.PutStr("cicd.pipeline.task.name", trainingRun.stepName)
	ra.PutStr("cicd.pipeline.name", trainingRun.experiment)
	ra.PutStr("cicd.pipeline.run.url.full", trainingRun.runURL)
	ra.PutStr("vcs.ref.head.revision", trainingRun.buildVersion)
	records := rl.ScopeLogs().AppendEmpty().LogRecords()

	info := records.AppendEmpty()
	info.SetSeverityNumber(plog.SeverityNumberInfo)
	info.Body().SetStr("loading training data")

	warn := records.AppendEmpty()
	warn.SetSeverityNumber(plog.SeverityNumberWarn)
	warn.Body().SetStr("validation loss increased")

	exc := records.AppendEmpty()
	exc.SetSeverityNumber(plog.SeverityNumberError)
	exc.Body().SetStr("training failed")
	exc.Attributes().PutStr("exception.type", "ValueError")
	exc.Attributes().PutStr("exception.message", "loss is NaN")

	event := records.AppendEmpty()
	event.SetSeverityNumber(plog.SeverityNumberInfo)
	event.Body().SetStr("model registered")
	event.Attributes().PutStr("microsoft.custom_event.name", "ModelRegistered")
	return ld
}
