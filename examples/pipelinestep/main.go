// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Command pipelinestep is a pipeline step that reports the OpenTelemetry
// way: log/slog bridged to the OpenTelemetry log SDK, one span around its
// work, and a counter and a histogram, all exported as OTLP to the
// collector. It carries no Application Insights code and no connection
// string; its run context comes from OTEL_RESOURCE_ATTRIBUTES, and the
// collector turns it into customDimensions.
//
// It honours the SDK's standard variables: OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL (grpc or http/protobuf, the default),
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
// To send to the TLS gateway (config/gateway.yaml), as the e2e tests do:
//
//	OTEL_EXPORTER_OTLP_ENDPOINT=https://gateway:4318
//	OTEL_EXPORTER_OTLP_CERTIFICATE=/path/to/ca.crt
//	OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pipelinestep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	p, err := newProviders(ctx)
	if err != nil {
		return err
	}
	// Flush on exit: a step's last lines are often the ones that matter.
	defer func() { err = errors.Join(err, p.shutdown(context.Background())) }()

	s := &step{
		logger: slog.New(otelslog.NewHandler("pipelinestep", otelslog.WithLoggerProvider(p.logs))),
		tracer: p.traces.Tracer("pipelinestep"),
		meter:  p.metrics.Meter("pipelinestep"),
	}
	return s.run(ctx)
}

type step struct {
	logger *slog.Logger
	tracer trace.Tracer
	meter  metric.Meter
}

// run is the work of the document's sample_step.py: one span around it,
// a line at each level, an exception, and two metrics.
func (s *step) run(ctx context.Context) error {
	rows, err := s.meter.Int64Counter("pipelinestep.rows_loaded", metric.WithUnit("{row}"))
	if err != nil {
		return err
	}
	epochs, err := s.meter.Float64Histogram("pipelinestep.epoch.duration", metric.WithUnit("s"))
	if err != nil {
		return err
	}

	// Under runcontext-launch, join the step's task-run span: TRACEPARENT
	// is the launcher's, as OpenTelemetry's environment-variable carrier
	// has it, so the step's own logs and spans share the step's trace.
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{
		"traceparent": os.Getenv("TRACEPARENT"),
		"tracestate":  os.Getenv("TRACESTATE"),
	})
	ctx, span := s.tracer.Start(ctx, "train")
	defer span.End()

	s.logger.InfoContext(ctx, "loading training data", "rows", 1200)
	rows.Add(ctx, 1200, metric.WithAttributes(attribute.String("table", "train")))
	for _, seconds := range []float64{12.5, 11.8, 13.1} {
		epochs.Record(ctx, seconds)
	}
	s.logger.WarnContext(ctx, "validation loss increased", "epoch", 3)
	s.logger.ErrorContext(ctx, "could not write checkpoint", "path", "/outputs/model.pkl")

	if err := train(); err != nil {
		s.logger.ErrorContext(ctx, "training failed",
			"exception.type", fmt.Sprintf("%T", err),
			"exception.message", err.Error(),
			"exception.stacktrace", string(debug.Stack()))
	}
	return nil
}

type trainingError struct{ reason string }

func (e *trainingError) Error() string { return "training diverged: " + e.reason }

func train() error { return &trainingError{reason: "loss is NaN"} }
