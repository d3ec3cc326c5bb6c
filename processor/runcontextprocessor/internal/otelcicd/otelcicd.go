// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package otelcicd maps the OpenTelemetry CICD semantic conventions, set by
// SDKs as resource attributes (OTEL_RESOURCE_ATTRIBUTES), to the run-context
// dimensions.
package otelcicd // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/otelcicd"

import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"

// Name is the detector's name in the processor's configuration.
const Name = "otel_cicd"

type otelCICD struct{}

// New returns the OpenTelemetry CICD conventions detector.
func New() detector.Detector { return otelCICD{} }

func (otelCICD) Kind() detector.Kind { return detector.Telemetry }

// Detect always answers: whether a resource carries the conventions is only
// known per resource.
func (otelCICD) Detect(func(string) string) detector.Context {
	return detector.Context{
		detector.ParentRunID:    {From: []string{"resource.cicd.pipeline.run.id"}},
		detector.StepID:         {From: []string{"resource.cicd.pipeline.task.run.id"}},
		detector.StepName:       {From: []string{"resource.cicd.pipeline.task.name"}},
		detector.ExperimentName: {From: []string{"resource.cicd.pipeline.name"}},
		detector.RunURL:         {From: []string{"resource.cicd.pipeline.run.url.full"}},
		detector.BuildVersion:   {From: []string{"resource.vcs.ref.head.revision"}},
	}
}
