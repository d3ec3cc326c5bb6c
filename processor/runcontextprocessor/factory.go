// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package runcontextprocessor attaches pipeline-run context to telemetry
// under the names users query in Application Insights' customDimensions.
package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// NewFactory returns the factory of the runcontext processor. Its
// environment detectors read the collector's own environment.
func NewFactory() processor.Factory {
	return newFactory(os.Getenv)
}

// factory keeps one runContext per configured component, shared by every
// pipeline and signal the component is used in, as core's memorylimiter
// does: detection and the start-up log run once; each pipeline counts its
// own telemetry.
type factory struct {
	// getenv is what environment detectors read: os.Getenv outside tests.
	getenv func(string) string

	mu sync.Mutex
	// instances is keyed by the component's configuration, the one value
	// every pipeline of one component ID is created with.
	instances map[component.Config]*runContext
}

func newFactory(getenv func(string) string) processor.Factory {
	f := &factory{getenv: getenv, instances: make(map[component.Config]*runContext)}
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(f.createLogs, metadata.LogsStability),
		processor.WithTraces(f.createTraces, metadata.TracesStability),
		processor.WithMetrics(f.createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		OnMissing:           MissingKeep,
		FillValue:           "unknown",
		SeverityDimension:   "Level",
		MaxCustomDimensions: defaultMaxCustomDimensions,
	}
}

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// shared returns the component's runContext, making it on first use.
func (f *factory) shared(set processor.Settings, cfg component.Config) *runContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	rc, ok := f.instances[cfg]
	if !ok {
		rc = newRunContext(set.Logger, cfg.(*Config), f.getenv, func() { f.forget(cfg) })
		f.instances[cfg] = rc
	}
	return rc
}

// forget drops a runContext whose last user shut down, so that a collector
// reloading its configuration detects afresh.
func (f *factory) forget(cfg component.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.instances, cfg)
}

func (f *factory) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	sp := f.shared(set, cfg).forSignal(set, cfg.(*Config).Logs)
	return processorhelper.NewLogs(ctx, set, cfg, next, sp.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(sp.start),
		processorhelper.WithShutdown(sp.shutdown))
}

func (f *factory) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	sp := f.shared(set, cfg).forSignal(set, cfg.(*Config).Traces)
	return processorhelper.NewTraces(ctx, set, cfg, next, sp.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(sp.start),
		processorhelper.WithShutdown(sp.shutdown))
}

func (f *factory) createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	sp := f.shared(set, cfg).forSignal(set, cfg.(*Config).Metrics)
	return processorhelper.NewMetrics(ctx, set, cfg, next, sp.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(sp.start),
		processorhelper.WithShutdown(sp.shutdown))
}
