// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package azuredevops

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
		{name: "not in Azure Pipelines", env: map[string]string{"TF_BUILD": ""}, want: nil},
		{
			name: "pipeline job",
			env: map[string]string{
				"TF_BUILD":                           "True",
				"BUILD_BUILDID":                      "4711",
				"BUILD_BUILDNUMBER":                  "20261127.3",
				"BUILD_DEFINITIONNAME":               "train-models",
				"BUILD_SOURCEVERSION":                "4f3c2a1bd00d",
				"SYSTEM_JOBID":                       "12f1170f-54f2-53f3-20dd-22fc7dff55f9",
				"SYSTEM_JOBDISPLAYNAME":              "Train",
				"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/contoso/",
				"SYSTEM_TEAMPROJECT":                 "ML Platform",
				"SYSTEM_ACCESSTOKEN":                 "secret",
			},
			want: detector.Context{
				"parent_run_id":   {Value: "4711"},
				"step_id":         {Value: "12f1170f-54f2-53f3-20dd-22fc7dff55f9"},
				"step_name":       {Value: "Train"},
				"experiment_name": {Value: "train-models"},
				"run_url":         {Value: "https://dev.azure.com/contoso/ML%20Platform/_build/results?buildId=4711"},
				"build_url":       {Value: "https://dev.azure.com/contoso/ML%20Platform/_build/results?buildId=4711"},
				"build_version":   {Value: "4f3c2a1bd00d"},
			},
		},
		{
			name: "no source version: the build number",
			env:  map[string]string{"BUILD_BUILDID": "9", "BUILD_BUILDNUMBER": "1.0.9"},
			want: detector.Context{
				"parent_run_id": {Value: "9"},
				"build_version": {Value: "1.0.9"},
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
