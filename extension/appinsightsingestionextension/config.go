// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsingestionextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension"

import (
	"errors"
	"fmt"
	"net"

	"go.opentelemetry.io/collector/confmap"
)

// Config is the configuration of the local ingestion endpoint.
type Config struct {
	// Endpoint is the address to listen on, host:port.
	Endpoint string `mapstructure:"endpoint"`
	// InstrumentationKey is the key every envelope must carry; envelopes
	// with another are rejected with 400, as Application Insights does.
	InstrumentationKey string `mapstructure:"instrumentation_key"`
	// Directory is the folder of envelopes.jsonl, created if missing.
	Directory string `mapstructure:"directory"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration.
func (cfg *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(cfg.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %q is not host:port: %w", cfg.Endpoint, err))
	}
	if cfg.InstrumentationKey == "" {
		errs = append(errs, errors.New("instrumentation_key: must not be empty"))
	}
	if cfg.Directory == "" {
		errs = append(errs, errors.New("directory: must not be empty"))
	}
	return errors.Join(errs...)
}
