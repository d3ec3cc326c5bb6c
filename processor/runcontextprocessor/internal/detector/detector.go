// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package detector defines what a run-context detector is: one small
// package per platform implements Detector, and the processor picks them by
// name from its configuration.
package detector // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"

// The dimension names users query in Application Insights.
const (
	ParentRunID    = "parent_run_id"
	StepID         = "step_id"
	StepName       = "step_name"
	ExperimentName = "experiment_name"
	RunURL         = "run_url"
	RunType        = "run_type"
	BuildURL       = "build_url"
	BuildVersion   = "build_version"
)

// StandardDimensions lists every dimension a detector may provide.
var StandardDimensions = []string{
	ParentRunID, StepID, StepName, ExperimentName, RunURL, RunType, BuildURL, BuildVersion,
}

// Source says where one dimension's value comes from, in the terms of the
// processor's dimensions option: references into the telemetry, or a value
// fixed at start.
type Source struct {
	From  []string
	Value string
}

// Context is the run context a platform provides, by dimension name.
type Context map[string]Source

// Kind says when a detector's values are known.
type Kind int

const (
	// Telemetry detectors name sources inside each incoming resource or
	// record: the gateway shape, where many steps share one collector.
	Telemetry Kind = iota
	// Environment detectors read the collector's own environment once at
	// start: the sidecar shape, where the collector runs in the step's job.
	Environment
)

// Detector finds the run context of one platform.
type Detector interface {
	// Kind says whether the detector reads telemetry or the environment.
	Kind() Kind
	// Detect returns the platform's run context, or nil when the platform
	// is not present. getenv reads one environment variable.
	Detect(getenv func(string) string) Context
}
