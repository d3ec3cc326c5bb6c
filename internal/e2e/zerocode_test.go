// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// The zero-code path: runcontext-launch around a step that only prints.
// Each test runs the real launcher and collector on config/azure.yaml,
// delivering to the local ingestion endpoint, and reads what Application
// Insights would have stored.

const requestEnvelope = "Microsoft.ApplicationInsights.Request"

// panicStep is a Go program that prints a line and panics.
var panicStep = buildOnce("panicstep", ".", "./internal/e2e/testdata/panicstep")

// githubJob is what GitHub Actions sets in a job's environment.
var githubJob = []string{
	"GITHUB_ACTIONS=true",
	"GITHUB_RUN_ID=7012345678",
	"GITHUB_RUN_ATTEMPT=2",
	"GITHUB_WORKFLOW=train",
	"GITHUB_JOB=prep",
	"GITHUB_SERVER_URL=https://github.com",
	"GITHUB_REPOSITORY=org/models",
	"GITHUB_SHA=4f3c2a1bd00d",
}

// azuremlJob is what Azure ML sets in a command job's environment.
var azuremlJob = []string{
	"AZUREML_RUN_ID=train_7c1d9a",
	"AZUREML_ROOT_RUN_ID=931024c2-3720-11ea-b247-c49deda841c1",
	"AZUREML_ARM_PROJECT_NAME=train-pipeline",
	"AZUREML_ARM_SUBSCRIPTION=3f2e1d0c-sub",
	"AZUREML_ARM_RESOURCEGROUP=ml-rg",
	"AZUREML_ARM_WORKSPACE_NAME=ml-ws",
}

// zeroCodeRun is one launcher run, its console kept per stream.
type zeroCodeRun struct {
	code           int
	stdout, stderr string
	envs           []ingestion.Envelope
}

// runZeroCode runs the launcher around command in a job's environment
// (no OTEL_RESOURCE_ATTRIBUTES: the run context comes from the platform),
// and waits until the step's request item has arrived.
func runZeroCode(t *testing.T, job []string, flags []string, command ...string) zeroCodeRun {
	t.Helper()
	bin, err := stepLauncher()
	require.NoError(t, err)
	ingest := ingestiontest.New(t)
	args := append([]string{"--collector", collectorBinary(t), "--config", configPath("azure.yaml")}, flags...)
	cmd := exec.Command(bin, append(append(args, "--"), command...)...)
	cmd.Env = append(withoutOTel(os.Environ()), job...)
	cmd.Env = append(cmd.Env,
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	run := zeroCodeRun{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		require.NoError(t, err)
	}
	run.envs = ingest.Envelopes(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("launcher stderr:\n%s", lastLines(run.stderr, 40))
		}
	})
	return run
}

// withoutOTel is env without the OpenTelemetry variables of whoever runs
// the tests.
func withoutOTel(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "AZUREML_") {
			out = append(out, kv)
		}
	}
	return out
}

func (r zeroCodeRun) captured() []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range logEnvelopes(r.envs) {
		if e.Data.BaseData.Properties["log.iostream"] != "" {
			out = append(out, e)
		}
	}
	return out
}

func (r zeroCodeRun) named(name string) []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range r.envs {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func (r zeroCodeRun) summary(t *testing.T) ingestion.Envelope {
	t.Helper()
	for _, e := range r.envs {
		if e.Data.BaseData.Properties["event.name"] == stepSummaryEvent {
			return e
		}
	}
	t.Fatal("no step summary arrived")
	return ingestion.Envelope{}
}

// request is the step's one item in the requests table.
func (r zeroCodeRun) request(t *testing.T) ingestion.Envelope {
	t.Helper()
	reqs := r.named(requestEnvelope)
	require.Len(t, reqs, 1, "one requests item per step")
	return reqs[0]
}

// messages are the captured lines' texts with their Level and stream.
func messages(envs []ingestion.Envelope) []string {
	var out []string
	for _, e := range envs {
		if e.Name == messageEnvelope {
			p := e.Data.BaseData.Properties
			out = append(out, p["Level"]+" "+p["log.iostream"]+" "+e.Data.BaseData.Message)
		}
	}
	return out
}

// assertOneOperation checks that every item of the run shares the step
// request's operation_Id, the step's trace (metrics have none).
func (r zeroCodeRun) assertOneOperation(t *testing.T) {
	t.Helper()
	op := r.request(t).Tags["ai.operation.id"]
	require.Len(t, op, 32)
	for _, e := range r.envs {
		if e.Name == "Microsoft.ApplicationInsights.Metric" {
			continue
		}
		assert.Equal(t, op, e.Tags["ai.operation.id"], "%s %q", e.Name, text(e))
	}
}

// assertDimensions checks the run context on every item of the run.
func (r zeroCodeRun) assertDimensions(t *testing.T, want map[string]string) {
	t.Helper()
	for _, e := range r.envs {
		for dim, v := range want {
			assert.Equal(t, v, e.Data.BaseData.Properties[dim], "%s on %s %q", dim, e.Name, text(e))
		}
	}
}

var githubDimensions = map[string]string{
	"parent_run_id":   "7012345678",
	"step_id":         "7012345678/2/prep",
	"step_name":       "prep",
	"experiment_name": "train",
	"run_url":         "https://github.com/org/models/actions/runs/7012345678",
	"build_version":   "4f3c2a1bd00d",
}

// A shell step that only prints: each line arrives once with its Level,
// its stream and the job's run context; the progress bar is one line;
// the step is one requests item that failed with its exit code; the
// summary counts the lines. The console shows exactly what the step
// printed.
func TestZeroCodeShellStep(t *testing.T) {
	script := `echo "loading data"
echo "WARNING:root:disk almost full"
echo "[ERROR] bad shard 7" >&2
echo "plain stderr" >&2
printf 'epoch 1/3\repoch 2/3\repoch 3/3\n'
echo 'level=error msg="checkpoint failed" shard=7'
exit 3`
	run := runZeroCode(t, githubJob, nil, "sh", "-c", script)
	assert.Equal(t, 3, run.code)
	assert.Equal(t, "loading data\nWARNING:root:disk almost full\nepoch 1/3\repoch 2/3\repoch 3/3\nlevel=error msg=\"checkpoint failed\" shard=7\n", run.stdout, "stdout unchanged")
	assert.Equal(t, "[ERROR] bad shard 7\nplain stderr\n", run.stderr, "stderr unchanged, and nothing of the launcher's")

	assert.ElementsMatch(t, []string{
		"INFO stdout loading data",
		"WARNING stdout WARNING:root:disk almost full",
		"ERROR stderr [ERROR] bad shard 7",
		"WARNING stderr plain stderr",
		"INFO stdout epoch 3/3",
		"ERROR stdout checkpoint failed",
	}, messages(run.captured()))
	for _, e := range run.captured() {
		if e.Data.BaseData.Message == "checkpoint failed" {
			assert.Equal(t, "7", e.Data.BaseData.Properties["shard"], "a logfmt field is a dimension")
		}
	}

	req := run.request(t)
	require.NotNil(t, req.Data.BaseData.Success)
	assert.False(t, *req.Data.BaseData.Success)
	assert.Equal(t, "prep", req.Data.BaseData.Name)
	assert.NotEmpty(t, req.Data.BaseData.Duration)
	p := req.Data.BaseData.Properties
	assert.Equal(t, "failure", p["cicd.pipeline.task.run.result"])
	assert.Equal(t, "3", p["error.type"])
	assert.Equal(t, "3", p["process.exit.code"])
	assert.Equal(t, "prep", p["cicd.pipeline.task.name"])
	assert.Equal(t, "7012345678/2/prep", p["cicd.pipeline.task.run.id"])

	s := run.summary(t).Data.BaseData.Properties
	assert.Equal(t, "ERROR", s["Level"])
	assert.Equal(t, "3", s["process.exit.code"])
	assert.Equal(t, "2", s["runcontext.step.lines.info"])
	assert.Equal(t, "2", s["runcontext.step.lines.warning"])
	assert.Equal(t, "2", s["runcontext.step.lines.error"])
	assert.Equal(t, "0", s["runcontext.step.lines_dropped"])
	assert.Equal(t, "true", s["runcontext.step.flush_succeeded"])

	run.assertOneOperation(t)
	run.assertDimensions(t, githubDimensions)
}

// The seed's kind of step: logging through a StreamHandler and an
// uncaught exception, in an Azure ML job. Level is right for each line,
// the traceback is one item in exceptions with its type, and the step's
// request failed.
func TestZeroCodePythonLoggingStep(t *testing.T) {
	run := runZeroCode(t, azuremlJob, nil, "python3", filepath.Join(repoRoot, "internal", "e2e", "testdata", "steps", "logging_step.py"))
	assert.Equal(t, 1, run.code)
	assert.Contains(t, run.stderr, "RuntimeError: training diverged: loss is NaN")
	assert.ElementsMatch(t, []string{
		"INFO stdout epoch 1 of 3",
		"INFO stderr INFO:train:loading 1200 rows",
		"WARNING stderr WARNING:train:validation loss increased",
		"ERROR stderr ERROR:train:could not write checkpoint",
	}, messages(run.captured()))

	excs := run.named(exceptionEnvelope)
	require.Len(t, excs, 1)
	exc := excs[0].Data.BaseData
	require.Len(t, exc.Exceptions, 1)
	assert.Equal(t, "RuntimeError", exc.Exceptions[0].TypeName)
	assert.Equal(t, "training diverged: loss is NaN", exc.Exceptions[0].Message)
	assert.Contains(t, exc.Exceptions[0].Stack, `line 18, in <module>`)
	assert.Equal(t, "ERROR", exc.Properties["Level"])

	req := run.request(t)
	assert.False(t, *req.Data.BaseData.Success)
	assert.Equal(t, "python3 logging_step.py", req.Data.BaseData.Name, "no step name in Azure ML's variables: the command's")
	run.assertOneOperation(t)
	run.assertDimensions(t, map[string]string{
		"parent_run_id":   "931024c2-3720-11ea-b247-c49deda841c1",
		"step_id":         "train_7c1d9a",
		"experiment_name": "train-pipeline",
		"run_url":         "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1?wsid=/subscriptions/3f2e1d0c-sub/resourcegroups/ml-rg/workspaces/ml-ws",
	})
}

// A Go step that panics: the panic and its goroutine dump are one
// CRITICAL exception, runtime.Error.
func TestZeroCodeGoPanic(t *testing.T) {
	step, err := panicStep()
	require.NoError(t, err)
	run := runZeroCode(t, githubJob, []string{"--task-name", "score"}, step)
	assert.Equal(t, 2, run.code)
	assert.Equal(t, []string{"INFO stdout loading 1200 rows"}, messages(run.captured()))
	excs := run.named(exceptionEnvelope)
	require.Len(t, excs, 1)
	exc := excs[0].Data.BaseData
	assert.Equal(t, "runtime.Error", exc.Exceptions[0].TypeName)
	assert.Equal(t, "runtime error: index out of range [3] with length 0", exc.Exceptions[0].Message)
	assert.Contains(t, exc.Exceptions[0].Stack, "goroutine 1 [running]:\nmain.main()")
	assert.Equal(t, "CRITICAL", exc.Properties["Level"])
	assert.Equal(t, "score", run.request(t).Data.BaseData.Name)
	run.assertOneOperation(t)
}

// A JVM stack trace with a suppressed exception and a cause, as java
// printed it (internal/console/testdata/tracebacks): one exception, the
// outermost type.
func TestZeroCodeJVMTrace(t *testing.T) {
	trace := filepath.Join(repoRoot, "internal", "console", "testdata", "tracebacks", "jvm_trace.txt")
	run := runZeroCode(t, githubJob, nil, "sh", "-c", `cat "$0" >&2; exit 1`, trace)
	assert.Empty(t, messages(run.captured()), "every line of the trace is in the exception")
	excs := run.named(exceptionEnvelope)
	require.Len(t, excs, 1)
	details := excs[0].Data.BaseData.Exceptions[0]
	assert.Equal(t, "java.lang.IllegalStateException", details.TypeName)
	assert.Equal(t, "training failed", details.Message)
	assert.Contains(t, details.Stack, "Caused by: java.io.IOException: shard 7 is unreadable")
}

// A step that logs through its OpenTelemetry SDK and prints the same
// lines: by default each line arrives once, from the SDK, with the
// step's trace; what only the console shows is captured. --capture=all
// takes every printed line as well.
func TestZeroCodeNoLineTwice(t *testing.T) {
	step, err := pipelineStep()
	require.NoError(t, err)
	// The example step's lines, printed as a console handler would, some
	// before the SDK sends them and some after.
	script := `echo "INFO loading training data"
echo "2026-01-01 10:00:00,123 WARNING train: validation loss increased" >&2
"$0" || exit
echo "ERROR:train:could not write checkpoint" >&2
echo "only on the console"`
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			run := runZeroCode(t, githubJob, []string{"--protocol", protocol}, "sh", "-c", script, step)
			require.Equal(t, 0, run.code, run.stderr)
			for _, line := range stepLines {
				var n int
				for _, e := range logEnvelopes(run.envs) {
					if strings.Contains(text(e), line.text) {
						n++
					}
				}
				assert.Equal(t, 1, n, "%q arrived once", line.text)
			}
			assert.Equal(t, []string{"INFO stdout only on the console"}, messages(run.captured()))
			assert.Equal(t, "3", run.summary(t).Data.BaseData.Properties["runcontext.step.duplicates_skipped"])
			assert.NotEmpty(t, run.named("Microsoft.ApplicationInsights.Metric"), "the step's metrics went through the launcher too")
			run.assertOneOperation(t)
		})
	}

	all := runZeroCode(t, githubJob, []string{"--capture=all"}, "sh", "-c", script, step)
	assert.Len(t, all.captured(), 4, "every printed line")
}

// A collector that cannot take the records (stopped, here) never slows
// the step: what does not fit in the buffer is dropped, counted, and
// reported on the launcher's stderr and in the summary. No rate bound:
// the buffer is what drops.
func TestZeroCodeStoppedCollectorDropsAndSays(t *testing.T) {
	// The step stops its own collector (the launcher's other child, the
	// one that is not the step's shell), then prints fast.
	script := `for pid in $(pgrep -P $PPID); do [ "$pid" = $$ ] || kill -STOP "$pid"; done
i=0; while [ $i -lt 200 ]; do seq 1 1000; i=$((i+1)); done >/dev/stdout
for pid in $(pgrep -P $PPID); do [ "$pid" = $$ ] || kill -CONT "$pid"; done`
	start := time.Now()
	run := runZeroCode(t, githubJob, []string{"--capture-buffer", "65536", "--max-lines-per-second", "0"}, "sh", "-c", script)
	assert.Equal(t, 0, run.code)
	assert.Less(t, time.Since(start), time.Minute)
	assert.Equal(t, 200_000, strings.Count(run.stdout, "\n"), "the console shows every line")
	assert.Contains(t, run.stderr, "runcontext-launch: step success: exit 0")
	assert.Regexp(t, `dropped [1-9][0-9]*`, run.stderr)
	s := run.summary(t).Data.BaseData.Properties
	assert.NotEqual(t, "0", s["runcontext.step.lines_dropped"])
	assert.Equal(t, "WARNING", s["Level"])
}

// The README's quick start, as a new user runs it after `make build`:
// bin/runcontext-launch --local finds config/local.yaml above bin/ and the
// collector beside it, needs no connection string, says where the lines
// are stored, and they are there.
func TestZeroCodeQuickStart(t *testing.T) {
	launcher, err := stepLauncher()
	require.NoError(t, err)
	root := t.TempDir()
	for _, dir := range []string{"bin", "config"} {
		require.NoError(t, os.Mkdir(filepath.Join(root, dir), 0o755))
	}
	copyFile(t, launcher, filepath.Join(root, "bin", "runcontext-launch"))
	copyFile(t, collectorBinary(t), filepath.Join(root, "bin", "otelcol-runcontext"))
	copyFile(t, configPath("local.yaml"), filepath.Join(root, "config", "local.yaml"))

	cmd := exec.Command(filepath.Join(root, "bin", "runcontext-launch"), "--local", "--",
		"python3", filepath.Join(repoRoot, "internal", "e2e", "testdata", "steps", "logging_step.py"))
	cmd.Dir = root
	cmd.Env = append(withoutOTel(os.Environ()), "HOME="+root)
	cmd.Env = slicesDeleteEnv(cmd.Env, "APPLICATIONINSIGHTS_CONNECTION_STRING", "RUNCONTEXT_CONFIG", "RUNCONTEXT_DATA_DIR")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode(), "the step's own exit code")
	store := filepath.Join(root, ".local", "state", "otelcol-runcontext", "appinsights", "envelopes.jsonl")
	assert.Contains(t, string(out), "runcontext-launch: --local: what the step sends is stored in "+store)
	// The query the launcher suggests works on that store, with no
	// collector running.
	assert.Contains(t, string(out), "query it with: runcontext-query --data "+filepath.Dir(store))
	cli, err := queryCLI()
	require.NoError(t, err)
	table, err := exec.Command(cli, "--data", filepath.Dir(store), "traces | where message has 'checkpoint' | project message").Output()
	require.NoError(t, err)
	assert.Contains(t, string(table), "ERROR:train:could not write checkpoint")
	envs := readEnvelopes(t, store)
	assert.Contains(t, messages(envs), "ERROR stderr ERROR:train:could not write checkpoint")
	var types []string
	for _, e := range envs {
		if e.Name == exceptionEnvelope {
			types = append(types, e.Data.BaseData.Exceptions[0].TypeName)
		}
	}
	assert.Equal(t, []string{"RuntimeError"}, types)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o755))
}

// slicesDeleteEnv is env without the named variables.
func slicesDeleteEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// The step's SDK sends to its collector whatever the job had set: a
// signal's own endpoint and protocol are removed (they would win over the
// launcher's), loopback is out of the proxy's reach, and the example
// step's lines arrive.
func TestZeroCodeStepsSDKIsPointedAtItsCollector(t *testing.T) {
	step, err := pipelineStep()
	require.NoError(t, err)
	job := append(slices.Clone(githubJob),
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://192.0.2.1:4318/v1/logs",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc",
		"HTTPS_PROXY=http://192.0.2.1:3128",
		"HTTP_PROXY=http://192.0.2.1:3128",
		"NO_PROXY=.internal",
	)
	run := runZeroCode(t, job, nil, "sh", "-c",
		`echo "[$OTEL_EXPORTER_OTLP_LOGS_ENDPOINT][$OTEL_EXPORTER_OTLP_TRACES_PROTOCOL][$NO_PROXY]"; exec "$0"`, step)
	require.Equal(t, 0, run.code, run.stderr)
	assert.Equal(t, "[][][.internal,127.0.0.1,localhost]\n", run.stdout)
	sdk := sentBySDK(logEnvelopes(run.envs))
	assert.Len(t, sdk, len(stepLines), "every line the step's SDK logged arrived")
	for _, e := range sdk {
		assert.Equal(t, "7012345678", e.Data.BaseData.Properties["parent_run_id"])
	}
}
