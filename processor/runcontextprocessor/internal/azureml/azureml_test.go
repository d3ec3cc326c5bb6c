// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package azureml

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"
)

func TestDetect(t *testing.T) {
	detectortest.Run(t, New(), []detectortest.Case{
		{
			Name: "not in Azure ML",
			Env:  map[string]string{"HOME": "/root"},
			Want: nil,
		},
		{
			Name: "pipeline step",
			Env: map[string]string{
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
			Want: detector.Context{
				"parent_run_id":   {Value: "931024c2-3720-11ea-b247-c49deda841c1"},
				"step_id":         {Value: "prep_step_931024c2"},
				"experiment_name": {Value: "train-pipeline"},
				"run_url":         {Value: "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1?wsid=/subscriptions/0f8c-sub/resourcegroups/ml-rg/workspaces/ml-ws"},
			},
		},
		{
			Name: "single-step job without workspace variables",
			Env:  map[string]string{"AZUREML_RUN_ID": "job_1"},
			Want: detector.Context{
				"parent_run_id": {Value: "job_1"},
				"step_id":       {Value: "job_1"},
			},
		},
	})
}
