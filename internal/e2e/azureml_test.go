// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
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

// The two steps of examples/azureml/pipeline.yml, run here as Azure ML
// would run them: each job's command line exactly, its launcher and flags,
// `python prep.py` through the OpenTelemetry SDK and `opentelemetry-instrument
// python train.py` with logging's auto-instrumentation, in the code folder
// (src), with the Python environment's python and opentelemetry-instrument
// on PATH (scripts/python-env.sh); the job's environment variables, and
// the variables Azure ML sets in a job (AZUREML_* and the compute's managed
// identity endpoint). Ingestion takes only the managed identity's tokens,
// as a resource with local authentication disabled. Both steps also print
// every line (a StreamHandler): each arrives once.
func TestAzureMLPipelineSteps(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "azureml", "pipeline.yml"))
	require.NoError(t, err)
	var pipeline struct {
		ExperimentName string         `yaml:"experiment_name"`
		Inputs         map[string]any `yaml:"inputs"`
		Jobs           map[string]struct {
			Code                 string            `yaml:"code"`
			Command              string            `yaml:"command"`
			EnvironmentVariables map[string]string `yaml:"environment_variables"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &pipeline))
	python := pythonEnv(t, "current")
	prepared := t.TempDir()
	placeholders := strings.NewReplacer(
		"${{outputs.prepared}}", prepared,
		"${{inputs.prepared}}", prepared,
		"${{inputs.epochs}}", fmt.Sprint(pipeline.Inputs["epochs"]),
	)
	rootRun := "pipeline-run-1b7a"
	// command is the job's command line as Azure ML runs it, on compute
	// whose managed identity is authority's, sending to ingest.
	command := func(t *testing.T, name string, authority *entraidtest.Authority, ingest *ingestiontest.Server, env ...string) *exec.Cmd {
		job := pipeline.Jobs[name]
		launcherPart, stepPart, ok := strings.Cut(job.Command, " -- ")
		require.True(t, ok)
		flags := strings.Fields(launcherPart)
		require.Equal(t, "runcontext-launch", flags[0])
		bin, err := stepLauncher()
		require.NoError(t, err)
		args := append([]string{"--collector", collectorBinary(t), "--config", configPath("azure.yaml")}, flags[1:]...)
		cmd := exec.Command(bin, append(append(args, "--"), strings.Fields(placeholders.Replace(stepPart))...)...)
		cmd.Dir = filepath.Join(repoRoot, "examples", "azureml", job.Code)
		cmd.Env = append(withoutOTel(os.Environ()), "PATH="+filepath.Dir(python)+":"+os.Getenv("PATH"))
		for k, v := range job.EnvironmentVariables {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, authority.ManagedIdentityEnv()...)
		cmd.Env = append(cmd.Env,
			"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
			"RUNCONTEXT_DATA_DIR="+t.TempDir(),
			"AZUREML_RUN_ID="+name+"-run-77c2",
			"AZUREML_ROOT_RUN_ID="+rootRun,
			"AZUREML_ARM_PROJECT_NAME="+pipeline.ExperimentName,
			"AZUREML_ARM_SUBSCRIPTION=0000aaaa-0000-0000-0000-000000000000",
			"AZUREML_ARM_RESOURCEGROUP=ml-rg",
			"AZUREML_ARM_WORKSPACE_NAME=ml-ws",
		)
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
	for _, tt := range []struct {
		job   string
		lines []string
	}{
		{"prep", []string{"loading training data", "validation loss increased", "prepared 1 rows"}},
		{"train", []string{"epoch 0 loss 1.000", "epoch 1 loss 0.500", "epoch 2 loss 0.333", "could not write checkpoint"}},
	} {
		t.Run(tt.job, func(t *testing.T) {
			authority := entraidtest.New(t)
			ingest := ingestiontest.New(t)
			ingest.RequireToken(authority.Valid)
			stepRun := tt.job + "-run-77c2"
			cmd := command(t, tt.job, authority, ingest)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)

			envs := ingest.Envelopes(t)
			var texts []string
			for _, e := range traces(envs) {
				if !fromTheLauncher(e) || e.Data.BaseData.Properties["log.iostream"] != "" {
					texts = append(texts, e.Data.BaseData.Message)
				}
			}
			assert.ElementsMatch(t, tt.lines, texts, "each line once: from the SDK, not again from the console")
			for _, e := range logEnvelopes(envs) {
				props := e.Data.BaseData.Properties
				assert.Equal(t, rootRun, props["parent_run_id"])
				assert.Equal(t, stepRun, props["step_id"])
				assert.Equal(t, tt.job, props["step_name"])
				assert.Equal(t, pipeline.ExperimentName, props["experiment_name"])
				assert.Equal(t, "training", props["run_type"])
				assert.Equal(t, "https://ml.azure.com/runs/"+rootRun+"?wsid=/subscriptions/0000aaaa-0000-0000-0000-000000000000/resourcegroups/ml-rg/workspaces/ml-ws", props["run_url"])
			}
			assert.Zero(t, ingest.Unauthorized(), "signed with the compute's managed identity")
			assert.NotEmpty(t, authority.Issued())
		})
	}

	// A job asking for an identity its compute does not have fails before
	// its step runs, with the fix in the job's log: without one, every
	// token fails and the spool sits in a container that is thrown away.
	t.Run("prep without its identity", func(t *testing.T) {
		authority := entraidtest.New(t)
		ingest := ingestiontest.New(t)
		ingest.RequireToken(authority.Valid)
		cmd := command(t, "prep", authority, ingest, "RUNCONTEXT_ENTRA_CLIENT_ID=99999999-0000-0000-0000-000000000000")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s", out)
		assert.Equal(t, 70, exit.ExitCode(), "%s", out)
		assert.Contains(t, string(out), "has no token here")
		assert.Contains(t, string(out), "az ml compute update")
		assert.NotContains(t, string(out), "loading training data", "the step did not run")
		assert.Empty(t, ingest.Envelopes(t))
	})
}
