// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// runContext is one configured runcontext component, shared by every
// pipeline and signal it is used in: the first start detects the run
// context, the last shutdown forgets it. Telemetry is not shared: each
// pipeline's processor counts with its own settings, so that its counters
// carry its own signal and pipeline, as core's memorylimiter does.
type runContext struct {
	cfg    *Config
	logger *zap.Logger // the first pipeline's, for the one start-up line
	getenv func(string) string
	// forget removes this runContext from its factory once it is unused.
	forget func()
	// missingAttrs holds, per required dimension, the attribute option of
	// the missing-dimension counter, built once.
	missingAttrs []metric.AddOption

	mu    sync.Mutex
	users int
	// found is set by the first start and read-only until the last
	// shutdown.
	found []detected
}

func newRunContext(logger *zap.Logger, cfg *Config, getenv func(string) string, forget func()) *runContext {
	rc := &runContext{cfg: cfg, logger: logger, getenv: getenv, forget: forget}
	for _, name := range cfg.Required {
		rc.missingAttrs = append(rc.missingAttrs,
			metric.WithAttributeSet(attribute.NewSet(attribute.String("dimension", name))))
	}
	return rc
}

// acquire starts the component for one more user; the first one detects.
func (rc *runContext) acquire() error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.users > 0 {
		rc.users++
		return nil
	}
	rc.found = detect(rc.cfg, rc.getenv)
	if names := environmentDetectors(rc.found); len(names) > 0 {
		rc.logger.Info("Run context found in the environment", zap.Strings("detectors", names))
	}
	rc.users = 1
	return nil
}

// release ends one user; the last one forgets the detection.
func (rc *runContext) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.users--; rc.users > 0 {
		return
	}
	rc.forget()
}

// reportTelemetry adds one Consume call's counts to this pipeline's
// telemetry, and tells processorhelper to stop when nothing is left to
// pass on.
func (sp *signalProcessor) reportTelemetry(ctx context.Context, s *consumeState, empty bool) error {
	sp.telemetry.ProcessorRuncontextRecordsProcessed.Add(ctx, s.processed)
	if s.customDimensionsDropped > 0 {
		sp.telemetry.ProcessorRuncontextCustomDimensionsDropped.Add(ctx, s.customDimensionsDropped)
	}
	for k, n := range s.missing {
		if n > 0 {
			sp.telemetry.ProcessorRuncontextRecordsMissingDimension.Add(ctx, n, sp.shared.missingAttrs[k])
		}
	}
	if s.dropped > 0 {
		sp.telemetry.ProcessorRuncontextRecordsDropped.Add(ctx, s.dropped)
		if empty {
			return processorhelper.ErrSkipProcessingData
		}
	}
	return nil
}

// signalProcessor is one pipeline's view of a runContext: the plan for its
// signal's dimensions, and its own telemetry. The signal adapters (logs.go, traces.go, metrics.go)
// walk their data and call the plan for each resource and each record: a
// log record, a span or a data point.
type signalProcessor struct {
	shared  *runContext
	set     component.TelemetrySettings
	exclude []string
	// telemetry is built by start with this pipeline's settings.
	telemetry *metadata.TelemetryBuilder
	// plan is built by start, from what the shared detection found; it
	// stays after shutdown, so that a late call still finds a plan.
	plan    *plan
	started bool
}

func (rc *runContext) forSignal(set processor.Settings, signal SignalConfig) *signalProcessor {
	return &signalProcessor{shared: rc, set: set.TelemetrySettings, exclude: signal.Exclude}
}

func (sp *signalProcessor) start(context.Context, component.Host) error {
	tb, err := metadata.NewTelemetryBuilder(sp.set)
	if err != nil {
		return err
	}
	if err := sp.shared.acquire(); err != nil {
		tb.Shutdown()
		return err
	}
	p, err := newPlan(sp.shared.cfg, sp.exclude, sp.shared.found)
	if err != nil {
		sp.shared.release()
		tb.Shutdown()
		return err
	}
	sp.plan, sp.telemetry, sp.started = p, tb, true
	return nil
}

func (sp *signalProcessor) shutdown(context.Context) error {
	if !sp.started {
		return nil
	}
	sp.started = false
	sp.telemetry.Shutdown()
	sp.shared.release()
	return nil
}

// errNotStarted is returned for data that reaches a processor before its
// start: the collector never does that.
var errNotStarted = errors.New("runcontext processor used before it started")
