// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package otelcicd

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"
)

// The gateway's detector: it reads no environment, and names the resource
// attributes of the CICD conventions that SDKs set.
var conventions = detector.Context{
	"parent_run_id":   {From: []string{"resource.cicd.pipeline.run.id"}},
	"step_id":         {From: []string{"resource.cicd.pipeline.task.run.id"}},
	"step_name":       {From: []string{"resource.cicd.pipeline.task.name"}},
	"experiment_name": {From: []string{"resource.cicd.pipeline.name"}},
	"run_url":         {From: []string{"resource.cicd.pipeline.run.url.full"}},
	"build_version":   {From: []string{"resource.vcs.ref.head.revision"}},
}

func TestDetect(t *testing.T) {
	if New().Kind() != detector.Telemetry {
		t.Fatal("otel_cicd reads telemetry, so a gateway can use it")
	}
	detectortest.Run(t, New(), []detectortest.Case{
		{Name: "empty environment", Env: nil, Want: conventions},
		// Whatever the collector's own environment holds, the context comes
		// from each resource.
		{Name: "inside GitHub Actions", Env: map[string]string{"GITHUB_RUN_ID": "1", "CI": "true"}, Want: conventions},
	})
}
