// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package gitlab

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want detector.Context
	}{
		{name: "not in GitLab CI", env: map[string]string{"GITLAB_CI": ""}, want: nil},
		{
			name: "pipeline job",
			env: map[string]string{
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
			want: detector.Context{
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
			name: "only the pipeline id",
			env:  map[string]string{"CI_PIPELINE_ID": "5"},
			want: detector.Context{"parent_run_id": {Value: "5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New().Detect(detector.Guard(func(k string) string { return tt.env[k] }))
			assert.Equal(t, tt.want, got)
		})
	}
}
