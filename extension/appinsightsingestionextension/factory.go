// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package appinsightsingestionextension serves a local Application Insights
// ingestion endpoint inside the collector.
package appinsightsingestionextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/internal/metadata"
)

// Defaults: loopback only, and the all-zero key that config/local.yaml's
// connection string names.
const (
	defaultEndpoint           = "127.0.0.1:8787"
	defaultInstrumentationKey = "00000000-0000-0000-0000-000000000000"
	defaultDirectory          = "appinsights-ingestion"
)

// NewFactory returns the factory of the appinsights_ingestion extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Endpoint:           defaultEndpoint,
		InstrumentationKey: defaultInstrumentationKey,
		Directory:          defaultDirectory,
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newIngestionExtension(cfg.(*Config), set.Logger), nil
}
