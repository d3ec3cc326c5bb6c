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
		RunsOn      string            `json:"runs-on"`
		Permissions map[string]string `json:"permissions"`
		Env         map[string]string `json:"env"`
		Defaults    struct {
			Run struct {
				Shell string `json:"shell"`
			} `json:"run"`
		} `json:"defaults"`
		Steps []struct {
			ID    string            `json:"id"`
			Name  string            `json:"name"`
			Uses  string            `json:"uses"`
			With  map[string]string `json:"with"`
			Env   map[string]string `json:"env"`
			Shell string            `json:"shell"`
			Run   string            `json:"run"`
		} `json:"steps"`
	} `json:"jobs"`
}

// Every run step runs under runcontext-launch (the job's default shell),
// installed by this repository's setup action first, but for the ones
// that set their own shell; the connection string is a secret, which only
// the launched steps get, and every script they run is in the repository.
func TestGitHubActionsWorkflow(t *testing.T) {
	var wf workflow
	readStrict(t, filepath.Join("..", "examples", "github-actions", "train.yml"), &wf)
	require.Len(t, wf.Jobs, 1)
	for _, job := range wf.Jobs {
		assert.NotEmpty(t, wf.On, "the workflow's triggers")
		assert.NotContains(t, job.Env, "APPLICATIONINSIGHTS_CONNECTION_STRING", "job-level env: checkout and pip would see the secret")
		assert.Equal(t, "runcontext-launch -- bash --noprofile --norc -eo pipefail {0}", job.Defaults.Run.Shell, "GitHub's bash line, under the launcher")
		installed, launched := false, 0
		for _, step := range job.Steps {
			if strings.HasPrefix(step.Uses, "otelcol-runcontext/otelcol-runcontext/actions/setup@") {
				installed = true
				assert.DirExists(t, filepath.Join("..", "actions", "setup"))
			}
			if step.Run == "" {
				continue
			}
			if step.Shell != "" {
				assert.NotContains(t, step.Env, "APPLICATIONINSIGHTS_CONNECTION_STRING", "a step that is not launched gets no secret")
				continue
			}
			assert.True(t, installed, "runcontext-launch is installed before %q", step.Name)
			assert.Equal(t, "${{ secrets.APPLICATIONINSIGHTS_CONNECTION_STRING }}", step.Env["APPLICATIONINSIGHTS_CONNECTION_STRING"], step.Name)
			assert.Contains(t, step.Env["OTEL_RESOURCE_ATTRIBUTES"], "cicd.pipeline.task.name="+step.Name)
			for _, f := range strings.Fields(step.Run) {
				if strings.HasSuffix(f, ".py") {
					assert.FileExists(t, filepath.Join("..", f))
				}
			}
			launched++
		}
		assert.Equal(t, 2, launched)
	}
}
