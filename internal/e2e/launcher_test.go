// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// stepLauncher is cmd/runcontext-launch, built from this checkout.
var stepLauncher = buildOnce("runcontext-launch", ".", "./cmd/runcontext-launch")

// launched is one run of the launcher around a command.
type launched struct {
	cmd    *exec.Cmd
	output *syncBuffer
}

// launch starts the launcher on config/azure.yaml, delivering to ingest,
// around command (run by sh -c, with the example step as $STEP), with the
// training run's context and a data folder of its own.
func launch(t *testing.T, ingest *ingestiontest.Server, dataDir string, flags []string, command string) *launched {
	t.Helper()
	bin, err := stepLauncher()
	require.NoError(t, err)
	step, err := pipelineStep()
	require.NoError(t, err)
	args := append([]string{"--collector", collectorBinary(t), "--config", configPath("azure.yaml")}, flags...)
	args = append(args, "--", "sh", "-c", command)
	l := &launched{cmd: exec.Command(bin, args...), output: &syncBuffer{}}
	l.cmd.Env = append(os.Environ(),
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR="+dataDir,
		"STEP="+step,
		"OTEL_SERVICE_NAME=pipelinestep",
		"OTEL_RESOURCE_ATTRIBUTES="+trainingRun.resourceAttributes(),
	)
	l.cmd.Stdout, l.cmd.Stderr = l.output, l.output
	require.NoError(t, l.cmd.Start())
	t.Cleanup(func() {
		if l.cmd.ProcessState == nil {
			_ = l.cmd.Process.Kill()
			_ = l.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("launcher output:\n%s", lastLines(l.output.String(), 40))
		}
	})
	return l
}

// wait returns the launcher's exit code.
func (l *launched) wait(t *testing.T) int {
	t.Helper()
	done := make(chan struct{})
	var code int
	var err error
	go func() {
		defer close(done)
		code, err = l.exitCode()
	}()
	select {
	case <-done:
		require.NoError(t, err)
		return code
	case <-time.After(2 * time.Minute):
		t.Fatal("the launcher did not exit within 2 minutes")
		return -1
	}
}

// exitCode waits for the launcher and returns its exit code.
func (l *launched) exitCode() (int, error) {
	err := l.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}

// The step's exit code is the launcher's, whatever it is, and what the
// step logged arrives in each case. The step never sees the connection
// string.
func TestLauncherPropagatesExitCodesAndDelivers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		command string
		want    int
	}{
		{"success", `test -z "$APPLICATIONINSIGHTS_CONNECTION_STRING" && exec "$STEP"`, 0},
		{"failure", `"$STEP" && exit 1`, 1},
		{"killed", `"$STEP" && kill -9 $$`, 137},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ingest := ingestiontest.New(t)
			l := launch(t, ingest, t.TempDir(), nil, tt.command)
			assert.Equal(t, tt.want, l.wait(t))
			assertStepArrived(t, logEnvelopes(ingest.Envelopes(t)), trainingRun)
		})
	}
}

// SIGTERM in the middle of a step (the pipeline cancels it): the step gets
// it, the launcher exits 143 as the step did, and what the step logged
// before still arrives.
func TestLauncherForwardsSIGTERMAndStillDelivers(t *testing.T) {
	ingest := ingestiontest.New(t)
	l := launch(t, ingest, t.TempDir(), nil, `"$STEP" && echo logged && sleep 60`)
	require.Eventually(t, func() bool { return strings.Contains(l.output.String(), "logged") }, time.Minute, 20*time.Millisecond)
	require.NoError(t, l.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 128+int(syscall.SIGTERM), l.wait(t))
	assertStepArrived(t, logEnvelopes(ingest.Envelopes(t)), trainingRun)
}

// A collector that cannot start never stops the step: it is reported, and
// the step runs with its own exit code. --strict makes it fatal.
func TestLauncherRunsTheStepWhenTheCollectorCannotStart(t *testing.T) {
	broken := mustWriteFile(t, "broken.yaml", "receivers: [not, a, map]\n")
	ingest := ingestiontest.New(t)

	l := launch(t, ingest, t.TempDir(), []string{"--config", broken}, `echo step ran; exit 3`)
	assert.Equal(t, 3, l.wait(t))
	out := l.output.String()
	assert.Contains(t, out, "step ran")
	assert.Contains(t, out, "the collector could not start; the step runs without it")

	strict := launch(t, ingest, t.TempDir(), []string{"--config", broken, "--strict"}, `echo step ran`)
	assert.Equal(t, 70, strict.wait(t))
	assert.NotContains(t, strict.output.String(), "step ran")
}

// Two steps wrapped at once on one machine, sharing one data folder, as
// two GPUs' steps would: each gets its own ports and spool, and both
// deliver.
func TestLaunchersSideBySideDoNotCollide(t *testing.T) {
	ingest := ingestiontest.New(t)
	dataDir := t.TempDir()
	// Each step waits until both have started, so their collectors run at
	// the same time.
	barrier := t.TempDir()
	command := `touch "` + barrier + `/$$"; while [ "$(ls "` + barrier + `" | wc -l)" -lt 2 ]; do sleep 0.05; done; exec "$STEP"`
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]error, 2)
	runs := make([]*launched, 2)
	for i := range runs {
		runs[i] = launch(t, ingest, dataDir, nil, command)
	}
	for i, l := range runs {
		wg.Go(func() { codes[i], errs[i] = l.exitCode() })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	assert.Equal(t, []int{0, 0}, codes)
	envs := sentBySDK(logEnvelopes(ingest.Envelopes(t)))
	assert.Len(t, where(envs, "parent_run_id", trainingRun.parentRunID), 2*len(stepLines), "both steps' lines arrived")
	_, err := os.Stat(filepath.Join(dataDir, "launch-1", "spool"))
	assert.NoError(t, err, "the second collector took the next spool folder")
}
