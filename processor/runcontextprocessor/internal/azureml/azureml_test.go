// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package azureml

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
		{
			name: "not in Azure ML",
			env:  map[string]string{"HOME": "/root"},
			want: nil,
		},
		{
			name: "pipeline step",
			env: map[string]string{
				"AZUREML_RUN_ID":             "prep_step_931024c2",
				"AZUREML_ROOT_RUN_ID":        "931024c2-3720-11ea-b247-c49deda841c1",
				"AZUREML_ARM_PROJECT_NAME":   "train-pipeline",
				"AZUREML_ARM_SUBSCRIPTION":   "0f8c-sub",
				"AZUREML_ARM_RESOURCEGROUP":  "ml-rg",
				"AZUREML_ARM_WORKSPACE_NAME": "ml-ws",
				"AZUREML_WORKSPACE_ID":       "ws-guid",
				"AZUREML_EXPERIMENT_ID":      "exp-guid",
				"AZUREML_RUN_TOKEN":          "secret-token",
			},
			want: detector.Context{
				"parent_run_id":   {Value: "931024c2-3720-11ea-b247-c49deda841c1"},
				"step_id":         {Value: "prep_step_931024c2"},
				"experiment_name": {Value: "train-pipeline"},
				"run_url":         {Value: "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1?wsid=/subscriptions/0f8c-sub/resourcegroups/ml-rg/workspaces/ml-ws"},
			},
		},
		{
			name: "single-step job without workspace variables",
			env:  map[string]string{"AZUREML_RUN_ID": "job_1"},
			want: detector.Context{
				"parent_run_id": {Value: "job_1"},
				"step_id":       {Value: "job_1"},
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
