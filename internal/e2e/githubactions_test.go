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

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// runnerPath is a PATH with runcontext-launch and otelcol-runcontext on it,
// as the setup action leaves a job's.
func runnerPath(t *testing.T) string {
	t.Helper()
	launcher, err := stepLauncher()
	require.NoError(t, err)
	bin := t.TempDir()
	require.NoError(t, os.Symlink(launcher, filepath.Join(bin, "runcontext-launch")))
	require.NoError(t, os.Symlink(collectorBinary(t), filepath.Join(bin, "otelcol-runcontext")))
	return bin + ":" + os.Getenv("PATH")
}

// shellCommand is a workflow's shell line as GitHub runs a step with it:
// the step's script written to a file, whose path replaces {0}, and the
// shell's program found on the job's PATH.
func shellCommand(t *testing.T, path, shell, script string) *exec.Cmd {
	t.Helper()
	file := filepath.Join(t.TempDir(), "step.sh")
	require.NoError(t, os.WriteFile(file, []byte(script), 0o600))
	args := strings.Fields(strings.ReplaceAll(shell, "{0}", file))
	var program string
	for _, dir := range filepath.SplitList(path) {
		if _, err := os.Stat(filepath.Join(dir, args[0])); err == nil {
			program = filepath.Join(dir, args[0])
			break
		}
	}
	require.NotEmpty(t, program, "%s on the job's PATH", args[0])
	cmd := exec.Command(program, args[1:]...)
	cmd.Env = append(withoutOTel(os.Environ()), "PATH="+path)
	return cmd
}

// The example workflow's default shell wraps a step without editing it:
// run by the launcher from PATH, each line the step prints arrives once
// with the job's run context, and a failing command in a pipeline fails
// the step with its exit code (bash -eo pipefail), after what it printed
// before arrived.
func TestGitHubActionsDefaultShellWrapsEveryStep(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "github-actions", "train.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Defaults struct {
				Run struct{ Shell string } `yaml:"run"`
			} `yaml:"defaults"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	shell := wf.Jobs["train"].Defaults.Run.Shell
	require.True(t, strings.HasPrefix(shell, "runcontext-launch "), shell)

	ingest := ingestiontest.New(t)
	cmd := shellCommand(t, runnerPath(t), shell, "echo prepared 3 rows\necho 'WARNING: disk almost full' >&2\nfalse | cat\necho not reached\n")
	cmd.Env = append(cmd.Env, githubJob...)
	cmd.Env = append(cmd.Env,
		"RUNCONTEXT_CONFIG="+configPath("azure.yaml"),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode(), "the pipeline's failure, as bash -eo pipefail gives it: %s", out)
	assert.NotContains(t, string(out), "not reached")

	levels := map[string]string{}
	for _, e := range traces(ingest.Envelopes(t)) {
		props := e.Data.BaseData.Properties
		if props["log.iostream"] == "" {
			continue // the launcher's summary
		}
		_, seen := levels[e.Data.BaseData.Message]
		assert.False(t, seen, "%q arrived twice", e.Data.BaseData.Message)
		levels[e.Data.BaseData.Message] = props["Level"]
		assert.Equal(t, "7012345678", props["parent_run_id"])
		assert.Equal(t, "7012345678/2/prep", props["step_id"])
		assert.Equal(t, "https://github.com/org/models/actions/runs/7012345678", props["run_url"])
	}
	assert.Equal(t, map[string]string{"prepared 3 rows": "INFO", "WARNING: disk almost full": "WARNING"}, levels)
}
