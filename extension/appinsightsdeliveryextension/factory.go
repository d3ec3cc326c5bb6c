// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:generate mdatagen metadata.yaml

// Package appinsightsdeliveryextension is an HTTP client middleware for the
// Azure Monitor exporter (its `middlewares:` setting). The exporter hands
// envelopes to ApplicationInsights-Go's channel, which reports failed
// deliveries only to a debug-level listener: an operator whose connection
// string is wrong, or whose resource throttles, sees nothing. This
// middleware reads every track response and logs what was not accepted.
package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
)

// NewFactory returns the factory of the appinsights_delivery extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config { return &Config{} }

func create(_ context.Context, set extension.Settings, _ component.Config) (extension.Extension, error) {
	return &deliveryExtension{logger: set.Logger}, nil
}
