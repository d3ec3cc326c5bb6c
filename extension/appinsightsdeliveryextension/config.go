// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
)

// Config is the configuration of the delivery middleware.
type Config struct {
	// ShutdownTimeout bounds how long the collector's shutdown waits: for
	// the track requests the exporter sends while it stops (its last
	// flush), then, with a spool, for the spool to be delivered. What is
	// not delivered by then stays in the spool for the next start.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`

	// Spool keeps every track request on disk until Application Insights
	// has taken it. Without a directory, requests pass through to
	// ingestion and only ApplicationInsights-Go's in-memory retries apply.
	Spool SpoolConfig `mapstructure:"spool"`

	// EntraID signs every request with a Microsoft Entra ID token, when
	// it sends it: keyless ingestion.
	EntraID EntraIDConfig `mapstructure:"entra_id"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SpoolConfig configures the disk spool.
type SpoolConfig struct {
	// Directory holds the spool; one collector per directory. Empty turns
	// the spool off.
	Directory string `mapstructure:"directory"`
	// MaxBytes bounds the spool on disk; when a new request would exceed
	// it, the oldest requests are dropped (counted, reason spool_full).
	MaxBytes int64 `mapstructure:"max_bytes"`
	// MaxAge drops requests that have waited longer (reason expired).
	MaxAge time.Duration `mapstructure:"max_age"`
	// InitialInterval is the wait after the first failed delivery; it
	// doubles with each failure in a row, up to MaxInterval, with ±20 %
	// jitter. A longer Retry-After from ingestion wins.
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `mapstructure:"timeout"`
	// NumConsumers is how many requests are delivered at once. With
	// ingestion's usual 100-500 ms round trip, 20 deliver 40-200 requests
	// a second, and a burst of 20 requests goes out at once, as
	// ApplicationInsights-Go would send it.
	NumConsumers int `mapstructure:"num_consumers"`
	// MaxAttempts is how many times a request may fail while others are
	// delivered before it moves to the dead letters: a request ingestion
	// keeps refusing never blocks the rest. Failures during an outage,
	// when every request fails, do not count.
	MaxAttempts int `mapstructure:"max_attempts"`
	// DeadLetter keeps what Application Insights will never take.
	DeadLetter DeadLetterConfig `mapstructure:"dead_letter"`
	// RekeyRefused sends a backlog that ingestion refuses for its
	// instrumentation key again with the key the exporters send with
	// now, once the connection string is fixed (rekey.go). Turn it on only
	// when every exporter using this extension sends with one connection
	// string, as the distribution's configs do: the extension sees keys
	// in the telemetry, not in the exporters' settings.
	RekeyRefused bool `mapstructure:"rekey_refused"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DeadLetterConfig configures the dead-letter folder.
type DeadLetterConfig struct {
	// Directory holds the dead letters; empty means "dead-letters" inside
	// the spool's directory.
	Directory string `mapstructure:"directory"`
	// MaxBytes bounds the folder; its oldest files go first.
	MaxBytes int64 `mapstructure:"max_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (s SpoolConfig) enabled() bool { return s.Directory != "" }

// contains reports whether dir is folder or holds it, as paths.
func contains(dir, folder string) bool {
	d, err1 := filepath.Abs(dir)
	f, err2 := filepath.Abs(folder)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, f)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// deadLetterDir is where dead letters go.
func (s SpoolConfig) deadLetterDir() string {
	if s.DeadLetter.Directory != "" {
		return s.DeadLetter.Directory
	}
	return filepath.Join(s.Directory, "dead-letters")
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout: %s must be positive: the exporter's last flush and the spool's delivery need time to finish", cfg.ShutdownTimeout))
	}
	errs = append(errs, cfg.EntraID.validate()...)
	s := cfg.Spool
	if s.MaxBytes < spool.BlockSize {
		errs = append(errs, fmt.Errorf("spool.max_bytes: %d is less than one %d-byte block, which even the smallest request takes on disk", s.MaxBytes, spool.BlockSize))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"spool.max_age", s.MaxAge},
		{"spool.initial_interval", s.InitialInterval},
		{"spool.max_interval", s.MaxInterval},
		{"spool.timeout", s.Timeout},
	} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("%s: %s must be positive", d.name, d.value))
		}
	}
	if s.NumConsumers < 1 {
		errs = append(errs, fmt.Errorf("spool.num_consumers: %d must be at least 1", s.NumConsumers))
	}
	if s.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("spool.max_attempts: %d must be at least 1", s.MaxAttempts))
	}
	if s.DeadLetter.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("spool.dead_letter.max_bytes: %d must be positive", s.DeadLetter.MaxBytes))
	}
	if s.enabled() && s.DeadLetter.Directory != "" && contains(s.DeadLetter.Directory, s.Directory) {
		errs = append(errs, fmt.Errorf("spool.dead_letter.directory: %q is or contains spool.directory %q; give the dead letters a folder of their own, or leave it empty for one inside the spool", s.DeadLetter.Directory, s.Directory))
	}
	if s.MaxInterval > 0 && s.MaxInterval < s.InitialInterval {
		errs = append(errs, fmt.Errorf("spool.max_interval: %s is shorter than spool.initial_interval %s", s.MaxInterval, s.InitialInterval))
	}
	return errors.Join(errs...)
}
