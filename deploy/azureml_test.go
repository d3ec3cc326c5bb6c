// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// The Azure ML CLI v2 documents of examples/azureml, as far as they use
// the published schemas (pipelineJob, commandJob, environment): decoded
// strictly, so that a key outside them fails. The schemas' JSON files
// (azuremlschemas.azureedge.net) cannot be fetched on this machine.
type pipelineJob struct {
	Schema         string `json:"$schema"`
	Type           string `json:"type"`
	DisplayName    string `json:"display_name"`
	ExperimentName string `json:"experiment_name"`
	Settings       struct {
		DefaultCompute string `json:"default_compute"`
	} `json:"settings"`
	Inputs map[string]any        `json:"inputs"`
	Jobs   map[string]commandJob `json:"jobs"`
}

type commandJob struct {
	Type                 string            `json:"type"`
	Code                 string            `json:"code"`
	Command              string            `json:"command"`
	Environment          string            `json:"environment"`
	EnvironmentVariables map[string]string `json:"environment_variables"`
	Identity             struct {
		Type string `json:"type"`
	} `json:"identity"`
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]struct {
		Type string `json:"type"`
	} `json:"outputs"`
}

type environment struct {
	Schema      string `json:"$schema"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Build       struct {
		Path           string `json:"path"`
		DockerfilePath string `json:"dockerfile_path"`
	} `json:"build"`
}

func readStrict(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(raw, v), path)
}

var binding = regexp.MustCompile(`\$\{\{\s*([a-z_.]+)\s*\}\}`)

// Each step of the pipeline runs under runcontext-launch in the
// environment this recipe builds, and every binding names something the
// pipeline defines.
func TestAzureMLPipeline(t *testing.T) {
	dir := filepath.Join("..", "examples", "azureml")
	var p pipelineJob
	readStrict(t, filepath.Join(dir, "pipeline.yml"), &p)
	var env environment
	readStrict(t, filepath.Join(dir, "environment", "environment.yml"), &env)

	assert.Equal(t, "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json", p.Schema)
	assert.Equal(t, "pipeline", p.Type)
	assert.Regexp(t, `^azureml:[A-Za-z0-9_-]+$`, p.Settings.DefaultCompute)
	require.Len(t, p.Jobs, 2)

	for name, job := range p.Jobs {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, "command", job.Type)
			assert.Equal(t, "azureml:"+env.Name+"@latest", job.Environment, "the environment this recipe builds")
			launcher, step, ok := strings.Cut(job.Command, " -- ")
			require.True(t, ok, "runcontext-launch [flags] -- step")
			assert.True(t, strings.HasPrefix(launcher, "runcontext-launch"), job.Command)
			script := regexp.MustCompile(`python (\S+\.py)`).FindStringSubmatch(step)
			require.NotNil(t, script, "a Python step")
			assert.FileExists(t, filepath.Join(dir, job.Code, script[1]))
			assert.NotEmpty(t, job.EnvironmentVariables["APPLICATIONINSIGHTS_CONNECTION_STRING"])
			if job.EnvironmentVariables["RUNCONTEXT_ENTRA_CREDENTIAL"] == "managed_identity" {
				// Keyless needs the compute's identity in the job, and a
				// missing one stops the step before it runs.
				assert.Equal(t, "managed", job.Identity.Type)
				assert.Contains(t, strings.Fields(launcher), "--strict")
			}
			assert.Contains(t, job.EnvironmentVariables["OTEL_RESOURCE_ATTRIBUTES"], "cicd.pipeline.task.name="+name)

			for _, m := range binding.FindAllStringSubmatch(job.Command, -1) {
				kind, port, _ := strings.Cut(m[1], ".")
				switch kind {
				case "inputs":
					assert.Contains(t, job.Inputs, port, m[0])
				case "outputs":
					assert.Contains(t, job.Outputs, port, m[0])
				default:
					t.Errorf("%s: a command binds inputs or outputs", m[0])
				}
			}
			for port, v := range job.Inputs {
				s, ok := v.(string)
				if !ok {
					continue
				}
				for _, m := range binding.FindAllStringSubmatch(s, -1) {
					parts := strings.Split(m[1], ".")
					switch {
					case len(parts) == 3 && parts[0] == "parent" && parts[1] == "inputs":
						assert.Contains(t, p.Inputs, parts[2], "%s of %s", m[0], port)
					case len(parts) == 5 && parts[0] == "parent" && parts[1] == "jobs" && parts[3] == "outputs":
						require.Contains(t, p.Jobs, parts[2], m[0])
						assert.Contains(t, p.Jobs[parts[2]].Outputs, parts[4], m[0])
					default:
						t.Errorf("%s of %s: an input binds a pipeline input or another job's output", m[0], port)
					}
				}
			}
		})
	}

	assert.Equal(t, "https://azuremlschemas.azureedge.net/latest/environment.schema.json", env.Schema)
	dockerfile, err := os.ReadFile(filepath.Join(dir, "environment", env.Build.Path, env.Build.DockerfilePath))
	require.NoError(t, err)
	for _, want := range []string{"/usr/local/bin/otelcol-runcontext", "/usr/local/bin/runcontext-launch", "/etc/otelcol-runcontext/"} {
		assert.Regexp(t, `(?m)^COPY --from=runcontext .*`+regexp.QuoteMeta(want), string(dockerfile))
	}
	// Every base is pinned: Azure ML's to a dated tag, ours to a version.
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(string(dockerfile), -1)
	require.Len(t, froms, 2)
	assert.Equal(t, "${RUNCONTEXT_IMAGE}", froms[0][1])
	assert.Regexp(t, `(?m)^ARG RUNCONTEXT_IMAGE=`+regexp.QuoteMeta(placeholderImage)+`:\d+\.\d+\.\d+$`, string(dockerfile), "the placeholder every recipe names")
	assert.Regexp(t, `^mcr\.microsoft\.com/azureml/[a-z0-9.-]+:\d{8}\.v\d+$`, froms[1][1], "a dated tag")
}
