// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

// Config is the configuration of the delivery middleware.
type Config struct {
	// ShutdownTimeout bounds how long the collector's shutdown waits for
	// the track requests the exporter sends while it stops. The exporter
	// closes its channel without waiting for the last flush, so without
	// this wait a step's last lines leave after the collector has exited,
	// that is never.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration.
func (cfg *Config) Validate() error {
	if cfg.ShutdownTimeout < 0 {
		return fmt.Errorf("shutdown_timeout: %s is negative", cfg.ShutdownTimeout)
	}
	return nil
}
