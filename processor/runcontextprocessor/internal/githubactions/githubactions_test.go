// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package githubactions

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"
)

func TestDetect(t *testing.T) {
	detectortest.Run(t, New(), []detectortest.Case{
		{Name: "not in GitHub Actions", Env: map[string]string{"CI": "true"}, Want: nil},
		{
			Name: "workflow job",
			Env: map[string]string{
				"GITHUB_ACTIONS":     "true",
				"GITHUB_RUN_ID":      "7012345678",
				"GITHUB_RUN_ATTEMPT": "2",
				"GITHUB_WORKFLOW":    "train",
				"GITHUB_JOB":         "prep",
				"GITHUB_SERVER_URL":  "https://github.com",
				"GITHUB_REPOSITORY":  "org/models",
				"GITHUB_SHA":         "4f3c2a1bd00d",
				"GITHUB_TOKEN":       "ghs_secret",
			},
			Want: detector.Context{
				"parent_run_id":   {Value: "7012345678"},
				"step_id":         {Value: "7012345678/2/prep"},
				"step_name":       {Value: "prep"},
				"experiment_name": {Value: "train"},
				"run_url":         {Value: "https://github.com/org/models/actions/runs/7012345678"},
				"build_version":   {Value: "4f3c2a1bd00d"},
				"build_url":       {Value: "https://github.com/org/models/commit/4f3c2a1bd00d"},
			},
		},
		{
			Name: "no server or repository: no links",
			Env:  map[string]string{"GITHUB_RUN_ID": "1", "GITHUB_JOB": "build", "GITHUB_SHA": "abc"},
			Want: detector.Context{
				"parent_run_id": {Value: "1"},
				"step_id":       {Value: "1/build"},
				"step_name":     {Value: "build"},
				"build_version": {Value: "abc"},
			},
		},
	})
}
