// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// `make dist` for this machine's platform: the archive's checksum is in
// SHA256SUMS, the three binaries say their version, and runcontext-launch from
// the unpacked archive finds its collector and configuration beside it
// and delivers a step's telemetry.
func TestDistArchiveOfTheHost(t *testing.T) {
	out := t.TempDir()
	run(t, "env", "DIST_PLATFORMS="+runtime.GOOS+"/"+runtime.GOARCH, "DIST_DIR="+out, "scripts/dist.sh")
	version := run(t, "sed", "-n", "s/^  version: //p", "builder-config.yaml")
	name := "otelcol-runcontext_" + version + "_" + runtime.GOOS + "_" + runtime.GOARCH
	archive := filepath.Join(out, name+".tar.gz")

	content, err := os.ReadFile(archive)
	require.NoError(t, err)
	sum := sha256.Sum256(content)
	sums, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(sum[:])+"  "+name+".tar.gz\n", string(sums))

	unpacked := t.TempDir()
	run(t, "tar", "-xzf", archive, "-C", unpacked)
	dir := filepath.Join(unpacked, name)
	assert.Contains(t, run(t, filepath.Join(dir, "otelcol-runcontext"), "--version"), version)
	assert.Equal(t, "runcontext-launch version "+version, run(t, filepath.Join(dir, "runcontext-launch"), "--version"))
	assert.Equal(t, "runcontext-query version "+version, run(t, filepath.Join(dir, "runcontext-query"), "--version"))
	for _, cfg := range []string{"local.yaml", "azure.yaml", "gateway.yaml"} {
		assert.FileExists(t, filepath.Join(dir, "config", cfg))
	}

	t.Run("the GitHub action installs its own tag's release", func(t *testing.T) {
		output, err := setupAction(t, out, version, name, os.Getenv("PATH"), "", "v"+version)
		require.NoError(t, err, "%s", output)
	})
	t.Run("the GitHub action installs the version asked, with a macOS runner's tools", func(t *testing.T) {
		output, err := setupAction(t, out, version, name, withoutSha256sum(t), version, "main")
		require.NoError(t, err, "%s", output)
	})
	t.Run("the GitHub action finds its tag in its own path when the runner gives no ref", func(t *testing.T) {
		output, err := setupAction(t, out, version, name, os.Getenv("PATH"), "", "",
			"GITHUB_ACTION_PATH=/home/runner/work/_actions/otelcol-runcontext/otelcol-runcontext/v"+version+"/actions/setup")
		require.NoError(t, err, "%s", output)
	})
	t.Run("the GitHub action on a branch, with no version, says what to pin", func(t *testing.T) {
		output, err := setupAction(t, out, version, name, os.Getenv("PATH"), "", "main")
		require.Error(t, err)
		assert.Contains(t, output, "::error::actions/setup@main is no release tag: pin the action to one (@v0.1.0), or set its version input")
	})

	ingest := ingestiontest.New(t)
	step, err := pipelineStep()
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(dir, "runcontext-launch"), "--", step)
	cmd.Env = append(os.Environ(),
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
		"RUNCONTEXT_CONFIG=", // the archive's own config/azure.yaml
		"OTEL_SERVICE_NAME=pipelinestep",
		"OTEL_RESOURCE_ATTRIBUTES="+trainingRun.resourceAttributes())
	output, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", output)
	assertStepArrived(t, logEnvelopes(ingest.Envelopes(t)), trainingRun)
}

// withoutSha256sum is a PATH of the tools the action's script uses as a
// macOS runner has them: shasum, and no sha256sum.
func withoutSha256sum(t *testing.T) string {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "curl", "grep", "tar", "gzip", "mkdir", "shasum"} {
		target, err := exec.LookPath(tool)
		require.NoError(t, err, "the test needs %s", tool)
		require.NoError(t, os.Symlink(target, filepath.Join(bin, tool)))
	}
	return bin
}

// setupAction runs the script of actions/setup/action.yml as a runner
// would, with the release folder as its download site (file://), the tools
// on path, its version input and the ref the action was used at: when it
// succeeds, it has checked the archive against SHA256SUMS, unpacked it and
// put it on the job's PATH.
func setupAction(t *testing.T, dist, version, name, path, inputVersion, actionRef string, env ...string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "actions", "setup", "action.yml"))
	require.NoError(t, err)
	var action struct {
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Shell string `yaml:"shell"`
				Run   string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &action))
	require.Equal(t, "composite", action.Runs.Using)
	require.Len(t, action.Runs.Steps, 1)

	site := t.TempDir()
	release := filepath.Join(site, "v"+version)
	require.NoError(t, os.MkdirAll(release, 0o755))
	for _, f := range []string{name + ".tar.gz", "SHA256SUMS"} {
		require.NoError(t, os.Link(filepath.Join(dist, f), filepath.Join(release, f)))
	}
	runner := map[string]string{"linux/amd64": "Linux/X64", "linux/arm64": "Linux/ARM64", "darwin/arm64": "macOS/ARM64"}[runtime.GOOS+"/"+runtime.GOARCH]
	require.NotEmpty(t, runner, "a platform the action installs on")
	runnerOS, runnerArch, _ := strings.Cut(runner, "/")
	githubPath := filepath.Join(t.TempDir(), "GITHUB_PATH")
	shell, err := exec.LookPath(action.Runs.Steps[0].Shell)
	require.NoError(t, err)
	cmd := exec.Command(shell, "-c", action.Runs.Steps[0].Run)
	cmd.Env = append(os.Environ(),
		"PATH="+path,
		"VERSION="+inputVersion,
		"ACTION_REF="+actionRef,
		"BASE_URL=file://"+site,
		"RUNNER_OS_NAME="+runnerOS,
		"RUNNER_ARCH_NAME="+runnerArch,
		"RUNNER_TEMP="+t.TempDir(),
		"GITHUB_PATH="+githubPath)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), err
	}
	assert.Contains(t, string(out), "runcontext-launch version "+version)
	added, err := os.ReadFile(githubPath)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(strings.TrimSpace(string(added)), "otelcol-runcontext"))
	return string(out), nil
}
