// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// The prep step of examples/azureml/pipeline.yml, run here as Azure ML
// would run it: its command line's launcher and flags, its environment
// variables, and the variables Azure ML sets in a job (AZUREML_* and the
// compute's managed identity endpoint). The Python step cannot run here
// (no Python packages can be installed): the Go example step stands in
// for `python prep.py`. Ingestion takes only the managed identity's
// tokens, as a resource with local authentication disabled.
func TestAzureMLStepCommandLine(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "azureml", "pipeline.yml"))
	require.NoError(t, err)
	var pipeline struct {
		ExperimentName string `yaml:"experiment_name"`
		Jobs           map[string]struct {
			Command              string            `yaml:"command"`
			EnvironmentVariables map[string]string `yaml:"environment_variables"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &pipeline))
	prep := pipeline.Jobs["prep"]
	launcherPart, _, ok := strings.Cut(prep.Command, " -- ")
	require.True(t, ok)
	flags := strings.Fields(launcherPart)
	require.Equal(t, "runcontext-launch", flags[0])

	authority := entraidtest.New(t)
	ingest := ingestiontest.New(t)
	ingest.RequireToken(authority.Valid)
	bin, err := stepLauncher()
	require.NoError(t, err)
	step, err := pipelineStep()
	require.NoError(t, err)

	args := append([]string{"--collector", collectorBinary(t), "--config", configPath("azure.yaml")}, flags[1:]...)
	cmd := exec.Command(bin, append(args, "--", step)...)
	cmd.Env = os.Environ()
	for k, v := range prep.EnvironmentVariables {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	const rootRun, stepRun = "pipeline-run-1b7a", "prep-run-77c2"
	cmd.Env = append(cmd.Env, authority.ManagedIdentityEnv()...)
	cmd.Env = append(cmd.Env,
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
		"AZUREML_RUN_ID="+stepRun,
		"AZUREML_ROOT_RUN_ID="+rootRun,
		"AZUREML_ARM_PROJECT_NAME="+pipeline.ExperimentName,
		"AZUREML_ARM_SUBSCRIPTION=0000aaaa-0000-0000-0000-000000000000",
		"AZUREML_ARM_RESOURCEGROUP=ml-rg",
		"AZUREML_ARM_WORKSPACE_NAME=ml-ws",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	envs := sentBySDK(logEnvelopes(ingest.Envelopes(t)))
	require.Len(t, envs, len(stepLines))
	for _, e := range envs {
		props := e.Data.BaseData.Properties
		assert.Equal(t, rootRun, props["parent_run_id"])
		assert.Equal(t, stepRun, props["step_id"])
		assert.Equal(t, "prep", props["step_name"])
		assert.Equal(t, pipeline.ExperimentName, props["experiment_name"])
		assert.Equal(t, "training", props["run_type"])
		assert.Equal(t, "https://ml.azure.com/runs/"+rootRun+"?wsid=/subscriptions/0000aaaa-0000-0000-0000-000000000000/resourcegroups/ml-rg/workspaces/ml-ws", props["run_url"])
	}
	assert.Zero(t, ingest.Unauthorized(), "signed with the compute's managed identity")
	assert.NotEmpty(t, authority.Issued())
}
