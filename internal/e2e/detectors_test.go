// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secrets a real job's environment holds. None may reach an exported byte
// or a log line.
var jobSecrets = map[string]string{
	"AZUREML_RUN_TOKEN":       "aml-run-token-0c1d2e3f",
	"GITHUB_TOKEN":            "ghs_gh-token-4a5b6c7d",
	"ACTIONS_RUNTIME_TOKEN":   "actions-runtime-token-8e9f",
	"SYSTEM_ACCESSTOKEN":      "ado-access-token-1a2b",
	"CI_JOB_TOKEN":            "gitlab-job-token-3c4d",
	"CI_JOB_JWT":              "gitlab-job-jwt-5e6f",
	"MODEL_REGISTRY_PASSWORD": "registry-password-7a8b",
}

func envList(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

// A sidecar inside a job: config/local.yaml with its bare runcontext, the
// job's environment, and a step that reports no run context at all.
func TestSidecarTakesRunContextFromTheJobEnvironment(t *testing.T) {
	tests := []struct {
		name string
		job  map[string]string
		want map[string]string
	}{
		{
			name: "azureml",
			job: map[string]string{
				"AZUREML_RUN_ID":             "prep_7c1d9a",
				"AZUREML_ROOT_RUN_ID":        "931024c2-3720-11ea-b247-c49deda841c1",
				"AZUREML_ARM_PROJECT_NAME":   "train-pipeline",
				"AZUREML_ARM_SUBSCRIPTION":   "3f2e1d0c-sub",
				"AZUREML_ARM_RESOURCEGROUP":  "ml-rg",
				"AZUREML_ARM_WORKSPACE_NAME": "ml-ws",
			},
			want: map[string]string{
				"parent_run_id":   "931024c2-3720-11ea-b247-c49deda841c1",
				"step_id":         "prep_7c1d9a",
				"experiment_name": "train-pipeline",
				"run_url":         "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1?wsid=/subscriptions/3f2e1d0c-sub/resourcegroups/ml-rg/workspaces/ml-ws",
			},
		},
		{
			name: "github_actions",
			job: map[string]string{
				"GITHUB_ACTIONS":     "true",
				"GITHUB_RUN_ID":      "7012345678",
				"GITHUB_RUN_ATTEMPT": "1",
				"GITHUB_WORKFLOW":    "train",
				"GITHUB_JOB":         "prep",
				"GITHUB_SERVER_URL":  "https://github.com",
				"GITHUB_REPOSITORY":  "org/models",
				"GITHUB_SHA":         "4f3c2a1bd00d",
			},
			want: map[string]string{
				"parent_run_id":   "7012345678",
				"step_id":         "7012345678/1/prep",
				"step_name":       "prep",
				"experiment_name": "train",
				"run_url":         "https://github.com/org/models/actions/runs/7012345678",
				"build_version":   "4f3c2a1bd00d",
				"build_url":       "https://github.com/org/models/commit/4f3c2a1bd00d",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(envList(tt.job), envList(jobSecrets)...)
			c, envelopesPath := localCollector(t, env...)
			runStep(t, c, "http/protobuf", runContext{}, append(env, "OTEL_RESOURCE_ATTRIBUTES=")...)
			c.stop(t)

			envs := readEnvelopes(t, envelopesPath)
			require.Len(t, logEnvelopes(envs), len(stepLines))
			for _, e := range logEnvelopes(envs) {
				for dim, want := range tt.want {
					assert.Equal(t, want, e.Data.BaseData.Properties[dim], "%s on %q", dim, text(e))
				}
			}
			assert.Contains(t, c.output.String(), `"detectors": ["`+tt.name+`"]`)

			exported, err := os.ReadFile(envelopesPath)
			require.NoError(t, err)
			for name, secret := range jobSecrets {
				assert.NotContains(t, string(exported), secret, "%s reached Application Insights", name)
				for _, line := range strings.Split(c.output.String(), "\n") {
					assert.NotContains(t, line, secret, "%s reached the collector's log", name)
				}
			}
		})
	}
}
