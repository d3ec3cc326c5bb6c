// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package githubactions

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
		{name: "not in GitHub Actions", env: map[string]string{"CI": "true"}, want: nil},
		{
			name: "workflow job",
			env: map[string]string{
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
			want: detector.Context{
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
			name: "no server or repository: no links",
			env:  map[string]string{"GITHUB_RUN_ID": "1", "GITHUB_JOB": "build", "GITHUB_SHA": "abc"},
			want: detector.Context{
				"parent_run_id": {Value: "1"},
				"step_id":       {Value: "1/build"},
				"step_name":     {Value: "build"},
				"build_version": {Value: "abc"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New().Detect(detector.Guard(func(k string) string { return tt.env[k] }))
			assert.Equal(t, tt.want, got)
		})
	}
}
