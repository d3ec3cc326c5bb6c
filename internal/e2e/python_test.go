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

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

// pythonEnv is the python of the environment name that
// scripts/python-env.sh creates from internal/e2e/python's pins (make test
// runs it first).
func pythonEnv(t *testing.T, name string) string {
	t.Helper()
	python := filepath.Join(repoRoot, ".build", "venv", name, "bin", "python")
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("no Python environment %q: run scripts/python-env.sh (make test does): %v", name, err)
	}
	return python
}

// readmePython is the README's Python snippet, verbatim: the python block
// after "The same step in Python".
func readmePython(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "The same step in Python")
	require.True(t, ok, "README.md has no Python step")
	_, block, ok := strings.Cut(after, "```python\n")
	require.True(t, ok)
	code, _, ok := strings.Cut(block, "```")
	require.True(t, ok)
	return code
}

// runPython runs code with python against the collector's OTLP/HTTP
// receiver, with the training run's context, and waits for it to exit.
func runPython(t *testing.T, python string, c *collector, code string, flags ...string) {
	t.Helper()
	cmd := exec.Command(python, append(flags, "-c", code)...)
	cmd.Env = append(withoutOTel(os.Environ()),
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+c.httpAddr,
		"OTEL_SERVICE_NAME=pipelinestep",
		"OTEL_RESOURCE_ATTRIBUTES="+trainingRun.resourceAttributes(),
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// The README's Python snippet runs as it is written, against make run's
// configuration: INFO and WARNING lines, the exception in exceptions with
// its type, and the run context on each.
func TestReadmePythonSnippetRunsVerbatim(t *testing.T) {
	c, envelopesPath := localCollector(t)
	// What the README tells users to write calls no deprecated API.
	runPython(t, pythonEnv(t, "current"), c, readmePython(t), "-W", "error::DeprecationWarning")
	c.stop(t)

	envs := logEnvelopes(readEnvelopes(t, envelopesPath))
	got := map[string]string{}
	for _, e := range envs {
		got[text(e)] = e.Name + " " + e.Data.BaseData.Properties["Level"]
		for dim, want := range trainingRun.dimensions() {
			assert.Equal(t, want, e.Data.BaseData.Properties[dim], "%s on %q", dim, text(e))
		}
		// log_code_attributes: each call's file and line.
		assert.Equal(t, "<string>", e.Data.BaseData.Properties["code.file.path"], "code location on %q", text(e))
		assert.NotEmpty(t, e.Data.BaseData.Properties["code.line.number"], "code location on %q", text(e))
	}
	assert.Equal(t, map[string]string{
		"loading training data":          messageEnvelope + " INFO",
		"validation loss increased":      messageEnvelope + " WARNING",
		"training diverged: loss is NaN": exceptionEnvelope + " ERROR",
	}, got)
	for _, e := range envs {
		if e.Name == exceptionEnvelope {
			assert.Equal(t, "ValueError", e.Data.BaseData.Exceptions[0].TypeName)
		}
	}
}

// The OpenTelemetry Python SDK's severity texts and code attributes differ
// by version. Measured with its ConsoleLogExporter: 1.32.1 writes WARN and
// CRITICAL with code.filepath, code.function and code.lineno; 1.45.2
// writes WARN and FATAL with code.file.path, code.function.name and
// code.line.number. Level is still Python's name (WARNING, CRITICAL), and
// the code location dimensions are there, from the oldest and the newest
// SDK the tests pin (internal/e2e/python).
func TestPythonSDKVersionsGiveTheSameDimensions(t *testing.T) {
	const step = `
import logging
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
provider = LoggerProvider()
provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter()))
log = logging.getLogger("train")
log.addHandler(LoggingHandler(logger_provider=provider))
log.setLevel(logging.DEBUG)
log.debug("batch 1 loaded")
log.info("epoch 1 done")
log.warning("validation loss increased")
log.error("could not write checkpoint")
log.critical("out of GPU memory")
provider.shutdown()
`
	codeLocation := mustWriteFile(t, "code-location.yaml", "processors:\n  runcontext:\n    code_location: true\n")
	for _, env := range []string{"oldest", "current"} {
		t.Run(env, func(t *testing.T) {
			dataDir := t.TempDir()
			c := startCollectorWith(t, []string{configPath("local.yaml"), codeLocation},
				"RUNCONTEXT_DATA_DIR="+dataDir, "RUNCONTEXT_INGESTION_ENDPOINT="+freeAddr(t))
			runPython(t, pythonEnv(t, env), c, step)
			c.stop(t)
			got := map[string]string{}
			for _, e := range logEnvelopes(readEnvelopes(t, filepath.Join(dataDir, "appinsights", ingestion.EnvelopesFile))) {
				p := e.Data.BaseData.Properties
				got[text(e)] = p["Level"]
				assert.Equal(t, "<string>", p["fileName"], "%q", text(e))
				assert.NotEmpty(t, p["lineNumber"], "%q", text(e))
			}
			assert.Equal(t, map[string]string{
				"batch 1 loaded":             "DEBUG",
				"epoch 1 done":               "INFO",
				"validation loss increased":  "WARNING",
				"could not write checkpoint": "ERROR",
				"out of GPU memory":          "CRITICAL",
			}, got)
		})
	}
}

// The Azure ML recipe loads with Azure ML's own SDK v2 loaders (load_job,
// load_environment), which validate offline against the service's
// schemas, and a field the schema does not know fails it: the check the
// hand-written decoder in deploy/ makes, against the real schema.
func TestAzureMLRecipeLoadsWithAzureMLsOwnLoaders(t *testing.T) {
	python := pythonEnv(t, "azureml")
	validate := filepath.Join(repoRoot, "internal", "e2e", "python", "validate_azureml.py")
	recipe := filepath.Join(repoRoot, "examples", "azureml")
	out, err := exec.Command(python, validate, recipe).Output()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "pipeline.yml: PipelineJob train-pipeline jobs=['prep', 'train']")
	assert.Contains(t, string(out), "prep: runcontext-launch --strict --protocol http/protobuf -- python prep.py --out ${{outputs.prepared}} (identity ManagedIdentityConfiguration)")
	assert.Contains(t, string(out), "train: runcontext-launch --strict --protocol http/protobuf -- opentelemetry-instrument python train.py --data ${{inputs.prepared}} --epochs ${{inputs.epochs}} (identity ManagedIdentityConfiguration)")
	assert.Contains(t, string(out), "environment.yml: Environment runcontext build=.")

	// The same recipe with one field Azure ML does not know.
	broken := t.TempDir()
	require.NoError(t, os.CopyFS(broken, os.DirFS(recipe)))
	pipeline, err := os.ReadFile(filepath.Join(recipe, "pipeline.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(broken, "pipeline.yml"),
		[]byte(strings.Replace(string(pipeline), "experiment_name:", "experiment_nmae: typo\nexperiment_name:", 1)), 0o600))
	out, err = exec.Command(python, validate, broken).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "experiment_nmae")
	assert.Contains(t, string(out), "Unknown field")
}
