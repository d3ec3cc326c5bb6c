// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package launcher

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// options runs command with a collector that does not exist.
func options(t *testing.T, strict bool, command ...string) (Options, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	config := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(config, []byte("exporters: {}\n"), 0o600))
	return Options{
		Collector:    filepath.Join(t.TempDir(), "no-such-collector"),
		Configs:      []string{config},
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

// What the collector lacks to start is said in one line that names the
// file or the variable, and how to fix it; the step runs anyway.
func TestAMissingConfigOrConnectionStringIsOneClearLine(t *testing.T) {
	opts, stdout, stderr := options(t, false, "sh", "-c", "echo ran")
	opts.Configs = []string{filepath.Join(t.TempDir(), "azure.yaml")}
	assert.Equal(t, 0, Run(opts))
	assert.Equal(t, "ran\n", stdout.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
	assert.Contains(t, stderr.String(), "no configuration at "+opts.Configs[0]+": pass --config FILE, set RUNCONTEXT_CONFIG, or try --local")

	opts, _, stderr = options(t, true, "sh", "-c", "echo ran")
	require.NoError(t, os.WriteFile(opts.Configs[0], []byte("connection_string: ${env:APPLICATIONINSIGHTS_CONNECTION_STRING}\n"), 0o600))
	opts.Environ = []string{"PATH=/usr/bin:/bin"}
	assert.Equal(t, ExitCollectorFailed, Run(opts))
	assert.Contains(t, stderr.String(), "APPLICATIONINSIGHTS_CONNECTION_STRING is not set: set it to your Application Insights resource's connection string, or try --local")
}

// The step's SDK sends to the injected endpoint whatever the user had
// set: a signal's own endpoint or protocol would win over it, and a
// proxy would catch loopback.
func TestTheStepsSDKSendsToItsCollector(t *testing.T) {
	l := &launcher{opts: Options{Protocol: "grpc", Environ: []string{
		"APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=secret",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://elsewhere:4318/v1/logs",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json",
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://elsewhere:4317",
		"HTTPS_PROXY=http://proxy:3128",
		"no_proxy=.internal",
		"TRACEPARENT=00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
		"KEEP=me",
	}}}
	env := l.stepEnviron("127.0.0.1:4317", nil)
	assert.ElementsMatch(t, []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"HTTPS_PROXY=http://proxy:3128",
		"NO_PROXY=.internal,127.0.0.1,localhost",
		"no_proxy=.internal,127.0.0.1,localhost",
		"TRACEPARENT=00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
		"KEEP=me",
	}, env)
}
