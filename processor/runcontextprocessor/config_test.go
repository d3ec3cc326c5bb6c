// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// loadConfig reads the named configuration from testdata/config.yaml over
// the factory's defaults, as the collector does.
func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.MustNewIDWithName(metadata.Type.String(), name)
	if name == "" {
		id = component.NewID(metadata.Type)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	if err := sub.Unmarshal(cfg); err != nil {
		return nil, err
	}
	return cfg, confmapValidate(cfg)
}

func confmapValidate(cfg *Config) error { return confmap.Validate(cfg) }

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	detectors := []string{"otel_cicd"}
	tests := []struct {
		name string
		want *Config
	}{
		{
			name: "",
			want: &Config{OnMissing: MissingKeep, FillValue: "unknown", SeverityDimension: "Level", MaxCustomDimensions: 64},
		},
		{
			name: "full",
			want: &Config{
				Dimensions: map[string]DimensionConfig{
					"parent_run_id": {From: []string{"attributes.parent_run_id", "resource.cicd.pipeline.run.id", "metadata.x-parent-run-id"}},
					"run_type":      {Value: "training"},
					"run_url":       {Template: "https://ml.azure.com/runs/{parent_run_id}?wsid={resource.azureml.workspace}"},
				},
				Detectors:           &detectors,
				Overwrite:           true,
				Required:            []string{"parent_run_id", "step_id"},
				OnMissing:           MissingFill,
				FillValue:           "none",
				SeverityDimension:   "severity",
				CodeLocation:        true,
				OpenCensus:          true,
				MaxCustomDimensions: 8,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestLoadConfigEmptyDetectorsTurnsDetectionOff(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(t, "metadata")
	require.NoError(t, err)
	require.NotNil(t, cfg.Detectors)
	assert.Empty(t, *cfg.Detectors)
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		wantErr string
	}{
		{"unknown_source", `dimensions::parent_run_id: from[0]: unknown source "span.run_id": use attributes.<key>, resource.<key> or metadata.<key>`},
		{"empty_source_key", `dimensions::parent_run_id: from[0]: source "resource." names no key after "resource."`},
		{"no_source", `dimensions::parent_run_id: no source: set from, value or template`},
		{"value_and_template", `dimensions::run_url: value and template both set: a fixed value always wins, so the template would never be used; keep one`},
		{"template_unknown_dimension", `dimensions::run_url: template names unknown dimension "parent_runid"`},
		{"template_cycle", `dimensions: templates form a cycle: a -> b -> c -> a`},
		{"template_syntax", `dimensions::run_url: template "https://example.com/{parent_run_id": unclosed { at offset 20`},
		{"empty_name", `dimensions: empty dimension name`},
		{"long_name", `characters, more than Application Insights' limit of 150`},
		{"drop_without_required", `on_missing: "drop" needs at least one dimension in required`},
		{"fill_without_value", `fill_value: must not be empty when on_missing is "fill"`},
		{"unknown_on_missing", `on_missing: unknown value "discard"; use keep, drop or fill`},
		{"unknown_required", `required[0]: "parent_runid" is not a dimension; configure it under dimensions or use one of [parent_run_id step_id step_name experiment_name run_url run_type build_url build_version]`},
		{"exclude_unknown", `metrics::exclude[0]: "run_link" is not a dimension`},
		{"exclude_required", `metrics::exclude[0]: "parent_run_id" is required, so it cannot be excluded`},
		{"credential_header", `dimensions::parent_run_id: from[0]: source "metadata.Authorization" reads a header that carries credentials; it would be written into every envelope
dimensions::step_id: template: source "metadata.x-api-key" reads a header that carries credentials; it would be written into every envelope`},
		{"source_like_names", `dimensions: dimension name "metadata.x" starts like a source reference (attributes., resource., metadata.); choose a name without that prefix
dimensions: dimension name "resource.team" starts like a source reference (attributes., resource., metadata.); choose a name without that prefix`},
		{"unknown_detector", `detectors[0]: unknown detector "jenkins"; known detectors: [azure_devops azureml github_actions gitlab otel_cicd]`},
		{"severity_is_a_dimension", `severity_dimension: "run_type" is also a dimension; the severity would overwrite it on every log record, so choose another name (the default is Level)`},
		{"severity_is_a_configured_dimension", `severity_dimension: "team" is also a dimension`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.name)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestValidateRejectsUnknownKey(t *testing.T) {
	t.Parallel()
	cm := confmap.NewFromStringMap(map[string]any{"overwrit": true})
	cfg := createDefaultConfig()
	err := cm.Unmarshal(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "overwrit")
}

// Validation reports every problem, in the same order on every run: a
// user fixing a config compares one run's errors with the next.
func TestValidateErrorsComeInAStableOrder(t *testing.T) {
	t.Parallel()
	cfg := createDefaultConfig().(*Config)
	cfg.Dimensions = map[string]DimensionConfig{
		"b_dim":         {},
		"a_dim":         {From: []string{"span.x"}},
		"resource.team": {Value: "ml"},
	}
	cfg.Required = []string{"nope"}
	cfg.Logs.Exclude = []string{"x"}
	cfg.Traces.Exclude = []string{"y"}
	cfg.Metrics.Exclude = []string{"z"}
	want := `dimensions::a_dim: from[0]: unknown source "span.x": use attributes.<key>, resource.<key> or metadata.<key>
dimensions::b_dim: no source: set from, value or template
dimensions: dimension name "resource.team" starts like a source reference (attributes., resource., metadata.); choose a name without that prefix
required[0]: "nope" is not a dimension; configure it under dimensions or use one of [parent_run_id step_id step_name experiment_name run_url run_type build_url build_version]
logs::exclude[0]: "x" is not a dimension
traces::exclude[0]: "y" is not a dimension
metrics::exclude[0]: "z" is not a dimension`
	for range 20 {
		err := cfg.Validate()
		require.Error(t, err)
		require.Equal(t, want, err.Error())
	}
}
