// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// providers are the SDK's three pipelines, sharing one resource: the one
// OTEL_RESOURCE_ATTRIBUTES describes.
type providers struct {
	logs    *sdklog.LoggerProvider
	traces  *sdktrace.TracerProvider
	metrics *sdkmetric.MeterProvider
}

// newProviders exports over the protocol OTEL_EXPORTER_OTLP_PROTOCOL names.
func newProviders(ctx context.Context) (*providers, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	grpc := false
	switch protocol := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); protocol {
	case "grpc":
		grpc = true
	case "", "http/protobuf":
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: use grpc or http/protobuf", protocol)
	}

	var logExporter sdklog.Exporter
	var spanExporter sdktrace.SpanExporter
	var metricExporter sdkmetric.Exporter
	var errs [3]error
	if grpc {
		logExporter, errs[0] = otlploggrpc.New(ctx)
		spanExporter, errs[1] = otlptracegrpc.New(ctx)
		metricExporter, errs[2] = otlpmetricgrpc.New(ctx)
	} else {
		logExporter, errs[0] = otlploghttp.New(ctx)
		spanExporter, errs[1] = otlptracehttp.New(ctx)
		metricExporter, errs[2] = otlpmetrichttp.New(ctx)
	}
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("OTLP exporters: %w", err)
	}
	return &providers{
		logs: sdklog.NewLoggerProvider(
			sdklog.WithResource(res),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(logExporter))),
		traces: sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithBatcher(spanExporter)),
		// Shutdown collects and exports once more, so a short step's
		// metrics leave too.
		metrics: sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExporter))),
	}, nil
}

// shutdown flushes and stops every pipeline.
func (p *providers) shutdown(ctx context.Context) error {
	return errors.Join(p.traces.Shutdown(ctx), p.metrics.Shutdown(ctx), p.logs.Shutdown(ctx))
}
