// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestConfigUnmarshalsEveryOption(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"shutdown_timeout": "30s",
		"spool": map[string]any{
			"directory":        "/var/lib/spool",
			"max_bytes":        1000000,
			"max_age":          "6h",
			"initial_interval": "2s",
			"max_interval":     "5m",
			"timeout":          "10s",
			"num_consumers":    4,
			"max_attempts":     3,
			"rekey_refused":    true,
			"dead_letter":      map[string]any{"directory": "/var/lib/dead", "max_bytes": 5000},
		},
		"entra_id": map[string]any{"credential": "managed_identity", "client_id": "1234", "scope": "api://x/.default"},
	}).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
	assert.Equal(t, "/var/lib/spool", cfg.Spool.Directory)
	assert.Equal(t, int64(1000000), cfg.Spool.MaxBytes)
	assert.Equal(t, 6*time.Hour, cfg.Spool.MaxAge)
	assert.Equal(t, 2*time.Second, cfg.Spool.InitialInterval)
	assert.Equal(t, 5*time.Minute, cfg.Spool.MaxInterval)
	assert.Equal(t, 10*time.Second, cfg.Spool.Timeout)
	assert.Equal(t, 4, cfg.Spool.NumConsumers)
	assert.Equal(t, 3, cfg.Spool.MaxAttempts)
	assert.True(t, cfg.Spool.RekeyRefused)
	assert.Equal(t, "/var/lib/dead", cfg.Spool.deadLetterDir())
	assert.Equal(t, int64(5000), cfg.Spool.DeadLetter.MaxBytes)
	assert.Equal(t, "managed_identity", cfg.EntraID.Credential)
	assert.Equal(t, "1234", cfg.EntraID.ClientID)
	assert.Equal(t, "api://x/.default", cfg.EntraID.Scope)
}

func TestDeadLettersBesideTheSpoolAreValid(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Spool.Directory, cfg.Spool.DeadLetter.Directory = "/var/lib/spool", "/var/lib/spool-dead"
	require.NoError(t, confmap.Validate(cfg))
}

func TestDeadLettersDefaultInsideTheSpool(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Spool.Directory = "/var/lib/spool"
	assert.Equal(t, "/var/lib/spool/dead-letters", cfg.Spool.deadLetterDir())
}

func TestConfigDefaultsAreValidAndSpoolOff(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.Validate(cfg))
	assert.False(t, cfg.Spool.enabled())
	assert.False(t, cfg.EntraID.enabled(), "keyless is off unless a credential is named")
	assert.Equal(t, "https://monitor.azure.com/.default", cfg.EntraID.Scope)
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"negative shutdown", func(c *Config) { c.ShutdownTimeout = -time.Second }, "shutdown_timeout: -1s must be positive"},
		{"zero shutdown", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown_timeout: 0s must be positive"},
		{"zero max bytes", func(c *Config) { c.Spool.MaxBytes = 0 }, "spool.max_bytes: 0 is less than one 4096-byte block"},
		{"max bytes below a block", func(c *Config) { c.Spool.MaxBytes = 4095 }, "spool.max_bytes: 4095 is less than one 4096-byte block"},
		{"dead letters in the spool folder itself", func(c *Config) {
			c.Spool.Directory, c.Spool.DeadLetter.Directory = "/var/lib/spool", "/var/lib/spool/"
		}, `spool.dead_letter.directory: "/var/lib/spool/" is or contains spool.directory "/var/lib/spool"`},
		{"dead letters around the spool folder", func(c *Config) {
			c.Spool.Directory, c.Spool.DeadLetter.Directory = "/var/lib/spool", "/var/lib"
		}, `spool.dead_letter.directory: "/var/lib" is or contains spool.directory "/var/lib/spool"`},
		{"zero max age", func(c *Config) { c.Spool.MaxAge = 0 }, "spool.max_age: 0s must be positive"},
		{"zero initial interval", func(c *Config) { c.Spool.InitialInterval = 0 }, "spool.initial_interval: 0s must be positive"},
		{"zero timeout", func(c *Config) { c.Spool.Timeout = 0 }, "spool.timeout: 0s must be positive"},
		{"no consumers", func(c *Config) { c.Spool.NumConsumers = 0 }, "spool.num_consumers: 0 must be at least 1"},
		{"no attempts", func(c *Config) { c.Spool.MaxAttempts = 0 }, "spool.max_attempts: 0 must be at least 1"},
		{"zero dead-letter bytes", func(c *Config) { c.Spool.DeadLetter.MaxBytes = 0 }, "spool.dead_letter.max_bytes: 0 must be positive"},
		{"unknown credential", func(c *Config) { c.EntraID.Credential = "password" }, `entra_id.credential: "password" is none of [managed_identity workload_identity azure_cli environment]`},
		{"client id for the CLI", func(c *Config) { c.EntraID.Credential, c.EntraID.ClientID = "azure_cli", "1234" }, `entra_id.client_id: only managed_identity and workload_identity take one, not "azure_cli"`},
		{"no scope", func(c *Config) { c.EntraID.Credential, c.EntraID.Scope = "environment", "" }, "entra_id.scope: empty"},
		{"max below initial", func(c *Config) { c.Spool.MaxInterval = 100 * time.Millisecond }, "spool.max_interval: 100ms is shorter than spool.initial_interval 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.change(cfg)
			err := confmap.Validate(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
