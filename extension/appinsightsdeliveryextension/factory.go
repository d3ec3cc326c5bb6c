// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package appinsightsdeliveryextension is an HTTP client middleware for the
// Azure Monitor exporter (its `middlewares:` setting). The exporter hands
// envelopes to ApplicationInsights-Go's in-memory channel, which retries
// for about two minutes, forgets everything when the collector stops, and
// reports failed deliveries only to a debug-level listener. With a spool,
// this middleware writes every track request to disk before answering the
// exporter that it was accepted, and delivers from disk itself: many
// requests at once, oldest ready first, each with its own backoff, pausing
// as a whole during an outage, resending only the retryable items of a
// partial success, across restarts. Either way it logs what ingestion rejected and holds the
// collector's shutdown until the exporter's last track requests are
// answered.
package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
)

// NewFactory returns the factory of the appinsights_delivery extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{
		ShutdownTimeout: 15 * time.Second,
		Spool: SpoolConfig{
			MaxBytes:        1 << 30, // 1 GiB
			MaxAge:          48 * time.Hour,
			InitialInterval: time.Second,
			MaxInterval:     time.Minute,
			Timeout:         30 * time.Second,
			NumConsumers:    20,
			MaxAttempts:     10,
			DeadLetter:      DeadLetterConfig{MaxBytes: 64 << 20}, // 64 MiB
		},
		EntraID: EntraIDConfig{Scope: monitorScope},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newDeliveryExtension(cfg.(*Config), set.TelemetrySettings)
}
