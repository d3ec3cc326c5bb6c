// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// One component used in logs, traces and metrics pipelines (two of them
// for logs) detects once, logs once, and detects afresh after a reload.
func TestOneRunContextPerComponent(t *testing.T) {
	t.Parallel()
	var detections atomic.Int64
	f := newFactory(func(name string) string {
		if name == "AZUREML_RUN_ID" {
			detections.Add(1)
		}
		return azureMLJob[name]
	})
	core, logs := observer.New(zapcore.InfoLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	cfg := createDefaultConfig()

	start := func() []component.Component {
		var all []component.Component
		for _, make := range []func(processor.Factory, processor.Settings, *Config) (component.Component, error){
			componentOf(logsPipeline), componentOf(logsPipeline), componentOf(tracesPipeline), componentOf(metricsPipeline),
		} {
			p, err := make(f, set, cfg.(*Config))
			require.NoError(t, err)
			require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
			all = append(all, p)
		}
		return all
	}
	stop := func(all []component.Component) {
		for _, p := range all {
			require.NoError(t, p.Shutdown(context.Background()))
		}
	}

	stop(start())
	assert.Equal(t, int64(1), detections.Load(), "detection ran once for four pipelines")
	found := logs.FilterMessage("Run context found in the environment").All()
	require.Len(t, found, 1)
	assert.Equal(t, []any{"azureml"}, found[0].ContextMap()["detectors"])

	// A reload makes new pipelines from a new configuration: they detect
	// again, once.
	cfg = createDefaultConfig()
	stop(start())
	assert.Equal(t, int64(2), detections.Load())
	assert.Len(t, logs.FilterMessage("Run context found in the environment").All(), 2)
}

// Data never reaches a processor before its start in a collector; if it
// did, it gets an error, not a panic.
func TestConsumeBeforeStartFails(t *testing.T) {
	t.Parallel()
	p, consume, _, err := logsPipeline(testFactory(nil), processortest.NewNopSettings(metadata.Type), defaultConfig())
	require.NoError(t, err)
	ld, err := golden.ReadLogs(filepath.Join("testdata", "logs", "cicd_input.yaml"))
	require.NoError(t, err)
	require.ErrorIs(t, consume(context.Background(), ld), errNotStarted)
	require.NoError(t, p.Shutdown(context.Background()))
}

// componentOf keeps only the component a pipeline makes.
func componentOf[T any](make pipeline[T]) func(processor.Factory, processor.Settings, *Config) (component.Component, error) {
	return func(f processor.Factory, set processor.Settings, cfg *Config) (component.Component, error) {
		p, _, _, err := make(f, set, cfg)
		return p, err
	}
}
