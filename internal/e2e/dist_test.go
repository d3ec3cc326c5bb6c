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
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// `make dist` for this machine's platform: the archive's checksum is in
// SHA256SUMS, both binaries say their version, and runcontext-launch from
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
	for _, cfg := range []string{"local.yaml", "azure.yaml", "gateway.yaml"} {
		assert.FileExists(t, filepath.Join(dir, "config", cfg))
	}

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
