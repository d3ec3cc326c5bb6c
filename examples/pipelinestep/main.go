// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Command pipelinestep is a pipeline step that logs the OpenTelemetry way:
// log/slog, bridged to the OpenTelemetry log SDK, exporting OTLP to the
// collector. It carries no Application Insights code and no connection
// string; its run context comes from OTEL_RESOURCE_ATTRIBUTES, and the
// collector turns it into customDimensions.
//
// It honours the SDK's standard variables: OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL (grpc or http/protobuf, the default),
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pipelinestep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	provider, err := newLoggerProvider(ctx)
	if err != nil {
		return err
	}
	// Flush on exit: a step's last lines are often the ones that matter.
	defer func() { err = errors.Join(err, provider.Shutdown(context.Background())) }()

	logger := slog.New(otelslog.NewHandler("pipelinestep", otelslog.WithLoggerProvider(provider)))
	step(ctx, logger)
	return nil
}

// step is the work of the document's sample_step.py, logged at each level.
func step(ctx context.Context, logger *slog.Logger) {
	logger.InfoContext(ctx, "loading training data", "rows", 1200)
	logger.WarnContext(ctx, "validation loss increased", "epoch", 3)
	logger.ErrorContext(ctx, "could not write checkpoint", "path", "/outputs/model.pkl")

	if err := train(); err != nil {
		logger.ErrorContext(ctx, "training failed",
			"exception.type", fmt.Sprintf("%T", err),
			"exception.message", err.Error(),
			"exception.stacktrace", string(debug.Stack()))
	}
}

type trainingError struct{ reason string }

func (e *trainingError) Error() string { return "training diverged: " + e.reason }

func train() error { return &trainingError{reason: "loss is NaN"} }

// newLoggerProvider exports over the protocol OTEL_EXPORTER_OTLP_PROTOCOL
// names, with the resource OTEL_RESOURCE_ATTRIBUTES describes.
func newLoggerProvider(ctx context.Context) (*sdklog.LoggerProvider, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	var exporter sdklog.Exporter
	switch protocol := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); protocol {
	case "grpc":
		exporter, err = otlploggrpc.New(ctx)
	case "", "http/protobuf":
		exporter, err = otlploghttp.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: use grpc or http/protobuf", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	return sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exporter)),
	), nil
}
