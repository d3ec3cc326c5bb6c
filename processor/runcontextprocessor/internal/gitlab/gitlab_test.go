// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package gitlab

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"
)

func TestDetect(t *testing.T) {
	detectortest.Run(t, New(), []detectortest.Case{
		{Name: "not in GitLab CI", Env: map[string]string{"GITLAB_CI": ""}, Want: nil},
		{
			Name: "pipeline job",
			Env: map[string]string{
				"GITLAB_CI":       "true",
				"CI_PIPELINE_ID":  "1234567",
				"CI_PIPELINE_URL": "https://gitlab.com/org/models/-/pipelines/1234567",
				"CI_JOB_ID":       "7654321",
				"CI_JOB_NAME":     "train",
				"CI_JOB_URL":      "https://gitlab.com/org/models/-/jobs/7654321",
				"CI_PROJECT_PATH": "org/models",
				"CI_PROJECT_URL":  "https://gitlab.com/org/models",
				"CI_COMMIT_SHA":   "4f3c2a1bd00d",
				"CI_JOB_TOKEN":    "secret",
				"CI_JOB_JWT":      "eyJsecret",
			},
			Want: detector.Context{
				"parent_run_id":   {Value: "1234567"},
				"step_id":         {Value: "7654321"},
				"step_name":       {Value: "train"},
				"experiment_name": {Value: "org/models"},
				"run_url":         {Value: "https://gitlab.com/org/models/-/pipelines/1234567"},
				"build_version":   {Value: "4f3c2a1bd00d"},
				"build_url":       {Value: "https://gitlab.com/org/models/-/commit/4f3c2a1bd00d"},
			},
		},
		{
			Name: "only the pipeline id",
			Env:  map[string]string{"CI_PIPELINE_ID": "5"},
			Want: detector.Context{"parent_run_id": {Value: "5"}},
		},
	})
}
