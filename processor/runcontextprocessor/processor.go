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
// pipeline and signal it is used in. The first start detects the run
// context and builds the component's telemetry; the last shutdown ends it.
type runContext struct {
	cfg    *Config
	set    processor.Settings
	getenv func(string) string
	// forget removes this runContext from its factory once it is unused.
	forget func()
	// missingAttrs holds, per required dimension, the attribute option of
	// the missing-dimension counter, built once.
	missingAttrs []metric.AddOption

	mu    sync.Mutex
	users int
	// found and telemetry are set by the first start and read-only until
	// the last shutdown.
	found     []detected
	telemetry *metadata.TelemetryBuilder
}

func newRunContext(set processor.Settings, cfg *Config, getenv func(string) string, forget func()) *runContext {
	rc := &runContext{cfg: cfg, set: set, getenv: getenv, forget: forget}
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
	tb, err := metadata.NewTelemetryBuilder(rc.set.TelemetrySettings)
	if err != nil {
		return err
	}
	rc.telemetry = tb
	rc.found = detect(rc.cfg, rc.getenv)
	if names := environmentDetectors(rc.found); len(names) > 0 {
		rc.set.Logger.Info("Run context found in the environment", zap.Strings("detectors", names))
	}
	rc.users = 1
	return nil
}

// release ends one user; the last one shuts the telemetry down.
func (rc *runContext) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.users--; rc.users > 0 {
		return
	}
	rc.telemetry.Shutdown()
	rc.forget()
}

// reportTelemetry adds one Consume call's counts to the component's
// telemetry, and tells processorhelper to stop when nothing is left to pass
// on.
func (rc *runContext) reportTelemetry(ctx context.Context, s *consumeState, empty bool) error {
	rc.telemetry.ProcessorRuncontextRecordsProcessed.Add(ctx, s.processed)
	for k, n := range s.missing {
		if n > 0 {
			rc.telemetry.ProcessorRuncontextRecordsMissingDimension.Add(ctx, n, rc.missingAttrs[k])
		}
	}
	if s.dropped > 0 {
		rc.telemetry.ProcessorRuncontextRecordsDropped.Add(ctx, s.dropped)
		if empty {
			return processorhelper.ErrSkipProcessingData
		}
	}
	return nil
}

// signalProcessor is one signal's view of a runContext: the plan for that
// signal's dimensions. The signal adapters (logs.go, traces.go, metrics.go)
// walk their data and call the plan for each resource and each record: a
// log record, a span or a data point.
type signalProcessor struct {
	shared  *runContext
	exclude []string
	// plan is built by start, from what the shared detection found; it
	// stays after shutdown, so that a late call still finds a plan.
	plan    *plan
	started bool
}

func (rc *runContext) forSignal(signal SignalConfig) *signalProcessor {
	return &signalProcessor{shared: rc, exclude: signal.Exclude}
}

func (sp *signalProcessor) start(context.Context, component.Host) error {
	if err := sp.shared.acquire(); err != nil {
		return err
	}
	p, err := newPlan(sp.shared.cfg, sp.exclude, sp.shared.found)
	if err != nil {
		sp.shared.release()
		return err
	}
	sp.plan, sp.started = p, true
	return nil
}

func (sp *signalProcessor) shutdown(context.Context) error {
	if !sp.started {
		return nil
	}
	sp.started = false
	sp.shared.release()
	return nil
}

// errNotStarted is returned for data that reaches a processor before its
// start: the collector never does that.
var errNotStarted = errors.New("runcontext processor used before it started")
