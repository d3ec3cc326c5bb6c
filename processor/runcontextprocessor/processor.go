// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// runContextProcessor executes one plan for one signal. The signal adapters
// (logs.go, traces.go, metrics.go) walk their data and call the plan for
// each resource and each record: a log record, a span or a data point.
type runContextProcessor struct {
	plan      *plan
	telemetry *metadata.TelemetryBuilder
	// missingAttrs holds, per required dimension, the attribute option of
	// the missing-dimension counter, built once.
	missingAttrs []metric.AddOption
}

func newRunContextProcessor(set processor.Settings, cfg *Config, signal SignalConfig) (*runContextProcessor, error) {
	p, err := newPlan(cfg, signal.Exclude, osGetenv)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	if len(p.fromEnvironment) > 0 {
		set.Logger.Info("Run context found in the environment", zap.Strings("detectors", p.fromEnvironment))
	}
	rcp := &runContextProcessor{plan: p, telemetry: tb}
	for _, i := range p.required {
		rcp.missingAttrs = append(rcp.missingAttrs,
			metric.WithAttributeSet(attribute.NewSet(attribute.String("dimension", p.dims[i].name))))
	}
	return rcp, nil
}

// record reports a finished batch's counts and tells processorhelper to stop
// when nothing is left to pass on.
func (rcp *runContextProcessor) record(ctx context.Context, b *batch, empty bool) error {
	rcp.telemetry.ProcessorRuncontextRecordsProcessed.Add(ctx, b.processed)
	for k, n := range b.missing {
		if n > 0 {
			rcp.telemetry.ProcessorRuncontextRecordsMissingDimension.Add(ctx, n, rcp.missingAttrs[k])
		}
	}
	if b.dropped > 0 {
		rcp.telemetry.ProcessorRuncontextRecordsDropped.Add(ctx, b.dropped)
		if empty {
			return processorhelper.ErrSkipProcessingData
		}
	}
	return nil
}

func (rcp *runContextProcessor) shutdown(context.Context) error {
	rcp.telemetry.Shutdown()
	return nil
}
