// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The workflow syntax the recipe uses, decoded strictly: a misspelt key
// fails here rather than on GitHub.
type workflow struct {
	Name string `json:"name"`
	// The key "on": a YAML 1.1 decoder, as this one, reads it as true.
	On          map[string]any    `json:"true"`
	Permissions map[string]string `json:"permissions"`
	Jobs        map[string]struct {
		RunsOn string            `json:"runs-on"`
		Env    map[string]string `json:"env"`
		Steps  []struct {
			Name string            `json:"name"`
			Uses string            `json:"uses"`
			With map[string]string `json:"with"`
			Env  map[string]string `json:"env"`
			Run  string            `json:"run"`
		} `json:"steps"`
	} `json:"jobs"`
}

// Every step that runs the project's Python steps runs under
// runcontext-launch, installed by this repository's setup action first;
// the connection string is a secret, which only the launched steps get.
func TestGitHubActionsWorkflow(t *testing.T) {
	var wf workflow
	readStrict(t, filepath.Join("..", "examples", "github-actions", "train.yml"), &wf)
	require.Len(t, wf.Jobs, 1)
	for _, job := range wf.Jobs {
		assert.NotEmpty(t, wf.On, "the workflow's triggers")
		assert.NotContains(t, job.Env, "APPLICATIONINSIGHTS_CONNECTION_STRING", "job-level env: checkout and pip would see the secret")
		installed, launched := false, 0
		for _, step := range job.Steps {
			if strings.HasPrefix(step.Uses, "otelcol-runcontext/otelcol-runcontext/actions/setup@") {
				installed = true
				assert.DirExists(t, filepath.Join("..", "actions", "setup"))
			}
			if strings.Contains(step.Run, "python") && !strings.HasPrefix(step.Run, "pip ") {
				assert.True(t, installed, "runcontext-launch is installed before %q", step.Name)
				assert.True(t, strings.HasPrefix(step.Run, "runcontext-launch -- "), step.Run)
				assert.Equal(t, "${{ secrets.APPLICATIONINSIGHTS_CONNECTION_STRING }}", step.Env["APPLICATIONINSIGHTS_CONNECTION_STRING"], step.Name)
				assert.Contains(t, step.Env["OTEL_RESOURCE_ATTRIBUTES"], "cicd.pipeline.task.name="+step.Name)
				script := strings.Fields(step.Run)
				for _, f := range script {
					if strings.HasSuffix(f, ".py") {
						assert.FileExists(t, filepath.Join("..", f))
					}
				}
				launched++
			} else {
				assert.NotContains(t, step.Env, "APPLICATIONINSIGHTS_CONNECTION_STRING", "a step that is not launched gets no secret")
			}
		}
		assert.Equal(t, 2, launched)
	}
}
