// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// The release workflow's first check, run here: a tag other than
// v<the version the binaries carry> stops the release, naming both.
func TestReleaseTagIsTheVersion(t *testing.T) {
	var wf workflow
	readStrict(t, filepath.Join("..", ".github", "workflows", "release.yml"), &wf)
	first := wf.Jobs["release"].Steps[2]
	require.Equal(t, `scripts/release-version.sh "$TAG"`, first.Run)
	assert.Equal(t, "${{ github.ref_name }}", first.Env["TAG"])

	version := strings.TrimSpace(regexp.MustCompile(`(?m)^  version: (.+)$`).FindStringSubmatch(readFile(t, filepath.Join("..", "builder-config.yaml")))[1])
	out, err := exec.Command("bash", filepath.Join("..", "scripts", "release-version.sh"), "v"+version).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, version+"\n", string(out))
	out, err = exec.Command("bash", filepath.Join("..", "scripts", "release-version.sh"), "v9.9.9").CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "the tag v9.9.9 is not v"+version)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(raw)
}
