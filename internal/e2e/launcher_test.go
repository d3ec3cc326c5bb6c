// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
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

// processAlive reports whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// readPid waits for a step to write its pid to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, time.Minute, 10*time.Millisecond)
	return pid
}

// A signal while the collector starts ends the launch: the step does not
// run, and the exit code is the signal's, as a shell's would be.
func TestLauncherInterruptedDuringTheCollectorsStart(t *testing.T) {
	slow := mustWriteFile(t, "slow-collector", "#!/bin/sh\nexec sleep 30\n")
	require.NoError(t, os.Chmod(slow, 0o755))
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		l := launch(t, ingestiontest.New(t), t.TempDir(), []string{"--collector", slow}, `echo step ran`)
		time.Sleep(300 * time.Millisecond)
		require.NoError(t, l.cmd.Process.Signal(sig))
		assert.Equal(t, 128+int(sig), l.wait(t))
		assert.NotContains(t, l.output.String(), "step ran")
		assert.Contains(t, l.output.String(), "while the collector was starting: the step does not run")
	}
}

// A step that ignores SIGTERM is killed --kill-after later, and its
// request item says it was cancelled.
func TestLauncherKillsAStepThatIgnoresSIGTERM(t *testing.T) {
	ingest := ingestiontest.New(t)
	l := launch(t, ingest, t.TempDir(), []string{"--kill-after", "1s"}, `trap '' TERM; echo ready; while :; do sleep 0.1; done`)
	require.Eventually(t, func() bool { return strings.Contains(l.output.String(), "ready") }, time.Minute, 10*time.Millisecond)
	start := time.Now()
	require.NoError(t, l.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 137, l.wait(t))
	assert.Less(t, time.Since(start), 8*time.Second)
	assert.Contains(t, l.output.String(), "the step did not stop within --kill-after 1s: killing it")
	var req []ingestion.Envelope
	for _, e := range ingest.Envelopes(t) {
		if e.Name == requestEnvelope {
			req = append(req, e)
		}
	}
	require.Len(t, req, 1)
	assert.Equal(t, "cancellation", req[0].Data.BaseData.Properties["cicd.pipeline.task.run.result"])
	assert.Equal(t, "SIGTERM", req[0].Data.BaseData.Properties["error.type"])
}

// What a step leaves running in the background is stopped and reaped when
// the step's main process ends; it does not outlive the launcher.
func TestLauncherEndsWhatTheStepLeftRunning(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	l := launch(t, ingestiontest.New(t), t.TempDir(), nil, `sleep 300 & echo $! > `+pidfile+`; exit 0`)
	assert.Equal(t, 0, l.wait(t))
	pid := readPid(t, pidfile)
	assert.False(t, processAlive(pid), "the step's background sleep is gone")
	assert.Contains(t, l.output.String(), "left processes running in its group: they were stopped")
}

// When the launcher itself is killed (kill -9: no chance to clean up),
// the step and the collector are stopped by the kernel, and the spool
// folder is free for the next launch.
func TestLauncherKilledTakesTheStepAndTheCollectorWithIt(t *testing.T) {
	ingest := ingestiontest.New(t)
	dataDir := t.TempDir()
	pidfile := filepath.Join(t.TempDir(), "pid")
	l := launch(t, ingest, dataDir, nil, `echo $$ > `+pidfile+`; exec sleep 300`)
	step := readPid(t, pidfile)
	// Each of the launcher's threads lists the children it forked.
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(l.cmd.Process.Pid), "task", "*", "children"))
	require.NoError(t, err)
	var pids []string
	for _, task := range tasks {
		children, err := os.ReadFile(task)
		require.NoError(t, err)
		pids = append(pids, strings.Fields(string(children))...)
	}
	require.Len(t, pids, 2, "the collector and the step")
	require.NoError(t, l.cmd.Process.Kill())
	_, _ = l.exitCode()
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		require.NoError(t, err)
		assert.Eventually(t, func() bool { return !processAlive(pid) }, 20*time.Second, 20*time.Millisecond, "pid %d (step %d) still runs", pid, step)
	}
	next := launch(t, ingest, dataDir, nil, `exit 0`)
	assert.Equal(t, 0, next.wait(t))
	assert.NotContains(t, next.output.String(), "is in use by another collector", "the killed launcher's collector let go of the spool")
}

// A step on a terminal is in the foreground: it reads the terminal rather
// than being stopped by SIGTTIN. script(1) gives the launcher a terminal.
func TestLauncherGivesAStepOnATerminalTheForeground(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("script(1) from util-linux is needed: it is on Debian's base system")
	}
	bin, err := stepLauncher()
	require.NoError(t, err)
	ingest := ingestiontest.New(t)
	inner := strings.Join([]string{bin, "--collector", collectorBinary(t), "--config", configPath("azure.yaml"), "--", "sh", "-c", "'read answer; echo got: $answer'"}, " ")
	cmd := exec.Command("script", "-qefc", inner, "/dev/null")
	cmd.Env = append(os.Environ(), "APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(), "RUNCONTEXT_DATA_DIR="+t.TempDir())
	cmd.Stdin = strings.NewReader("yes\n")
	done := make(chan struct{})
	var out []byte
	go func() {
		defer close(done)
		out, err = cmd.CombinedOutput()
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the step was stopped reading its terminal")
	}
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "got: yes")
}
