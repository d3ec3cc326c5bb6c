// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// maxNameLength is the longest property key Application Insights keeps whole;
// the Azure Monitor exporter cuts longer keys, which would break every query
// on the dimension.
const maxNameLength = 150

// MissingAction says what happens to a record that lacks a required dimension.
type MissingAction string

const (
	// MissingKeep passes the record on unchanged and counts it.
	MissingKeep MissingAction = "keep"
	// MissingDrop drops the record and counts it.
	MissingDrop MissingAction = "drop"
	// MissingFill writes FillValue as the dimension's value and counts it.
	MissingFill MissingAction = "fill"
)

// Config is the configuration of the runcontext processor.
type Config struct {
	// Dimensions maps an output name (the customDimensions key) to where its
	// value comes from. Explicit dimensions are tried before any detector.
	Dimensions map[string]DimensionConfig `mapstructure:"dimensions"`

	// Detectors names the platforms whose run context is attached. Unset
	// means otel_cicd plus every environment detector whose platform is
	// present; an empty list turns detection off.
	Detectors *[]string `mapstructure:"detectors"`

	// EnvironmentAuthoritative puts what environment detectors find before
	// what the telemetry reports, and lets it replace values the telemetry
	// carries: for operators who do not trust step code to report its run.
	EnvironmentAuthoritative bool `mapstructure:"environment_authoritative"`

	// Overwrite replaces a dimension that a record (or its resource) already
	// carries. By default the value the telemetry brings wins.
	Overwrite bool `mapstructure:"overwrite"`

	// Required lists the dimensions every record must end up with.
	Required []string `mapstructure:"required"`

	// OnMissing is what happens to a record lacking a required dimension.
	OnMissing MissingAction `mapstructure:"on_missing"`

	// FillValue is written for a missing required dimension when OnMissing is fill.
	FillValue string `mapstructure:"fill_value"`

	// SeverityDimension names the log-record attribute that receives the
	// Python logging level name of the record's severity. Empty turns it off.
	SeverityDimension string `mapstructure:"severity_dimension"`

	// CodeLocation adds fileName, lineNumber and module, the names
	// OpenCensus' AzureLogHandler used, from a log record's code.* attributes.
	CodeLocation bool `mapstructure:"code_location"`

	// OpenCensus writes what OpenCensus' AzureLogHandler wrote, next to
	// Level, so that workbooks and alerts written against it keep working:
	// level (the Python level name, lower-case key) and the code location
	// (fileName, lineNumber, module, as CodeLocation).
	OpenCensus bool `mapstructure:"opencensus"`

	// MaxCustomDimensions bounds how many entries of a log record's
	// custom_dimensions map attribute become dimensions of their own (what
	// Python's extra={"custom_dimensions": {...}}, OpenCensus' way of
	// passing dimensions, becomes through the OpenTelemetry SDK); the rest
	// are dropped. 0 leaves the map as it is.
	MaxCustomDimensions int `mapstructure:"max_custom_dimensions"`

	// Logs, Traces and Metrics adjust the dimensions per signal.
	Logs    SignalConfig `mapstructure:"logs"`
	Traces  SignalConfig `mapstructure:"traces"`
	Metrics SignalConfig `mapstructure:"metrics"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// DimensionConfig says where one dimension's value comes from. The sources
// are tried in this order and the first non-empty value wins: each entry of
// From in turn, then Value, then Template.
type DimensionConfig struct {
	// From lists source references: attributes.<key> (the record's own
	// attributes), resource.<key> (its resource's attributes) or
	// metadata.<key> (the request's client metadata, such as an OTLP header).
	From []string `mapstructure:"from"`

	// Value is a fixed value, for example ${env:RUN_TYPE}.
	Value string `mapstructure:"value"`

	// Template builds the value from other dimensions and sources, written
	// in braces: "https://example.com/runs/{parent_run_id}". It yields
	// nothing when any part it names is empty.
	Template string `mapstructure:"template"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// SignalConfig adjusts the dimensions for one signal.
type SignalConfig struct {
	// Exclude keeps these dimensions off the signal: they are not written,
	// and removed where the telemetry carries them under their name. Run
	// and step ids on metrics make one time series per run; exclude them
	// there to keep series few.
	Exclude []string `mapstructure:"exclude"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ confmap.Validator = (*Config)(nil)

// Validate checks the configuration and reports every problem it finds.
func (cfg *Config) Validate() error {
	var errs []error

	for _, name := range sortedKeys(cfg.Dimensions) {
		if err := validateName(name); err != nil {
			errs = append(errs, fmt.Errorf("dimensions: %w", err))
			continue
		}
		if err := cfg.Dimensions[name].validate(); err != nil {
			errs = append(errs, fmt.Errorf("dimensions::%s: %w", name, err))
		}
	}

	if cfg.Detectors != nil {
		for i, name := range *cfg.Detectors {
			if _, ok := detectors[name]; !ok {
				errs = append(errs, fmt.Errorf("detectors[%d]: unknown detector %q; known detectors: %v", i, name, knownDetectorNames()))
			}
		}
	}

	// Templates are checked as a whole: a reference to an unknown dimension
	// or a cycle only shows once every dimension is known.
	known := cfg.knownDimensions()
	if _, err := compileTemplates(cfg.Dimensions, known); err != nil {
		errs = append(errs, err)
	}

	for i, name := range cfg.Required {
		if !known[name] {
			errs = append(errs, fmt.Errorf("required[%d]: %q is not a dimension; configure it under dimensions or use one of %v", i, name, detector.StandardDimensions))
		}
	}

	for _, sc := range []struct {
		signal string
		cfg    SignalConfig
	}{{"logs", cfg.Logs}, {"traces", cfg.Traces}, {"metrics", cfg.Metrics}} {
		signal := sc.signal
		for i, name := range sc.cfg.Exclude {
			if !known[name] {
				errs = append(errs, fmt.Errorf("%s::exclude[%d]: %q is not a dimension", signal, i, name))
			}
			if slices.Contains(cfg.Required, name) {
				errs = append(errs, fmt.Errorf("%s::exclude[%d]: %q is required, so it cannot be excluded", signal, i, name))
			}
		}
	}

	switch cfg.OnMissing {
	case MissingKeep:
	case MissingDrop, MissingFill:
		if len(cfg.Required) == 0 {
			errs = append(errs, fmt.Errorf("on_missing: %q needs at least one dimension in required", cfg.OnMissing))
		}
		if cfg.OnMissing == MissingFill && cfg.FillValue == "" {
			errs = append(errs, errors.New(`fill_value: must not be empty when on_missing is "fill"`))
		}
	default:
		errs = append(errs, fmt.Errorf("on_missing: unknown value %q; use keep, drop or fill", cfg.OnMissing))
	}

	if cfg.MaxCustomDimensions < 0 {
		errs = append(errs, fmt.Errorf("max_custom_dimensions: %d; use 0 to leave custom_dimensions as it is, or a positive bound", cfg.MaxCustomDimensions))
	}
	if len(cfg.SeverityDimension) > maxNameLength {
		errs = append(errs, fmt.Errorf("severity_dimension: %d characters, more than Application Insights' limit of %d", len(cfg.SeverityDimension), maxNameLength))
	}
	if known[cfg.SeverityDimension] {
		errs = append(errs, fmt.Errorf("severity_dimension: %q is also a dimension; the severity would overwrite it on every log record, so choose another name (the default is Level)", cfg.SeverityDimension))
	}

	return errors.Join(errs...)
}

func (d DimensionConfig) validate() error {
	var errs []error
	if len(d.From) == 0 && d.Value == "" && d.Template == "" {
		errs = append(errs, errors.New("no source: set from, value or template"))
	}
	if d.Value != "" && d.Template != "" {
		errs = append(errs, errors.New("value and template both set: a fixed value always wins, so the template would never be used; keep one"))
	}
	for i, ref := range d.From {
		if _, err := parseSource(ref); err != nil {
			errs = append(errs, fmt.Errorf("from[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// knownDimensions is the set of names a template or required may refer to:
// the explicit dimensions and every dimension a detector can provide.
func (cfg *Config) knownDimensions() map[string]bool {
	known := make(map[string]bool, len(cfg.Dimensions)+len(detector.StandardDimensions))
	for _, name := range detector.StandardDimensions {
		known[name] = true
	}
	for name := range cfg.Dimensions {
		known[name] = true
	}
	return known
}

func validateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty dimension name")
	case len(name) > maxNameLength:
		return fmt.Errorf("dimension name %q: %d characters, more than Application Insights' limit of %d", name, len(name), maxNameLength)
	case isSourceRef(name):
		// Templates name sources and dimensions alike in braces: a
		// dimension called resource.team would share its key with the
		// source resource.team, and one of the two would be lost.
		return fmt.Errorf("dimension name %q starts like a source reference (attributes., resource., metadata.); choose a name without that prefix", name)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
