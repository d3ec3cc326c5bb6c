// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package launcher

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// options runs command with a collector that does not exist.
func options(t *testing.T, strict bool, command ...string) (Options, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return Options{
		Collector:    filepath.Join(t.TempDir(), "no-such-collector"),
		Configs:      []string{"unused.yaml"},
		Protocol:     "http/protobuf",
		Strict:       strict,
		StartTimeout: 5 * time.Second,
		StopTimeout:  5 * time.Second,
		Command:      command,
		Stdout:       &stdout,
		Stderr:       &stderr,
		Environ:      []string{"PATH=/usr/bin:/bin", "APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=secret", "KEEP=me"},
	}, &stdout, &stderr
}

// Without its collector the step still runs, with its own exit code, and
// without the connection string; the launcher says why.
func TestStepRunsWithoutItsCollector(t *testing.T) {
	opts, stdout, stderr := options(t, false, "sh", "-c", `echo "[$APPLICATIONINSIGHTS_CONNECTION_STRING][$KEEP][$OTEL_EXPORTER_OTLP_ENDPOINT]"; exit 7`)
	assert.Equal(t, 7, Run(opts))
	assert.Equal(t, "[][me][]\n", stdout.String())
	assert.Contains(t, stderr.String(), "the collector could not start; the step runs without it")
	assert.Contains(t, stderr.String(), "no-such-collector")
}

func TestStrictStopsBeforeTheStep(t *testing.T) {
	opts, stdout, _ := options(t, true, "sh", "-c", "echo ran")
	assert.Equal(t, ExitCollectorFailed, Run(opts))
	assert.Empty(t, stdout.String())
}

// A step ended by a signal exits 128 + the signal, as a shell reports it.
func TestSignalledStepExitCode(t *testing.T) {
	for script, want := range map[string]int{"kill -9 $$": 137, "kill -15 $$": 143, "exit 0": 0, "exit 255": 255} {
		opts, _, _ := options(t, false, "sh", "-c", script)
		assert.Equal(t, want, Run(opts), script)
	}
}

func TestMissingCommandIs127(t *testing.T) {
	opts, _, stderr := options(t, false, filepath.Join(t.TempDir(), "no-such-step"))
	assert.Equal(t, 127, Run(opts))
	assert.Contains(t, stderr.String(), "the step could not start")
}
