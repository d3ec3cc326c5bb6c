// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package detector defines what a run-context detector is: one small
// package per platform implements Detector, and the processor picks them by
// name from its configuration.
package detector // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"

import "strings"

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

// secretWords mark names that hold credentials: a name that contains one
// (in any case) is never read.
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "JWT", "CREDENTIAL", "CONNECTION_STRING", "CONNECTIONSTRING", "COOKIE", "AUTH"}

// secretParts mark names that hold credentials when they stand as a part
// of their own between underscores or dashes: PAT (a personal access token)
// would match PATH inside a word.
var secretParts = []string{"PAT"}

// IsSecret reports whether a name marks a secret, such as
// AZUREML_RUN_TOKEN, GITHUB_TOKEN, SYSTEM_ACCESSTOKEN, CI_JOB_JWT,
// AZURE_DEVOPS_PAT, APPLICATIONINSIGHTS_CONNECTION_STRING or x-api-key.
func IsSecret(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	for part := range strings.FieldsFuncSeq(upper, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		for _, p := range secretParts {
			if part == p {
				return true
			}
		}
	}
	return false
}

// Guard returns a getenv that never reads a secret: it answers "" for
// every name IsSecret marks, without looking the variable up.
func Guard(getenv func(string) string) func(string) string {
	return func(name string) string {
		if IsSecret(name) {
			return ""
		}
		return getenv(name)
	}
}

// Values builds a Context of fixed values, leaving out empty ones.
func Values(values map[string]string) Context {
	ctx := Context{}
	for dim, v := range values {
		if v != "" {
			ctx[dim] = Source{Value: v}
		}
	}
	return ctx
}

// JoinURL joins a base URL and a path with exactly one slash between them;
// it returns "" when either is empty, so a link is whole or absent.
func JoinURL(base, path string) string {
	if base == "" || path == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}
