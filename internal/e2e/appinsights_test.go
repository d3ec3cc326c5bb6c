// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

const (
	messageEnvelope   = "Microsoft.ApplicationInsights.Message"
	exceptionEnvelope = "Microsoft.ApplicationInsights.Exception"
)

// sentLine is one line the example step logs, as Application Insights
// must show it.
type sentLine struct {
	envelope      string
	text          string // the message, or the exception's message
	severityLevel int
	level         string
}

var stepLines = []sentLine{
	{messageEnvelope, "loading training data", 1, "INFO"},
	{messageEnvelope, "validation loss increased", 2, "WARNING"},
	{messageEnvelope, "could not write checkpoint", 3, "ERROR"},
	{exceptionEnvelope, "training diverged: loss is NaN", 3, "ERROR"},
}

// localCollector starts the binary on config/local.yaml with its
// in-collector ingestion endpoint on a free port and a temporary data
// folder, and returns it with the path of the envelopes file.
func localCollector(t *testing.T, env ...string) (*collector, string) {
	t.Helper()
	dataDir := t.TempDir()
	env = append([]string{
		"RUNCONTEXT_DATA_DIR=" + dataDir,
		"RUNCONTEXT_INGESTION_ENDPOINT=" + freeAddr(t),
	}, env...)
	c := startCollector(t, configPath("local.yaml"), env...)
	return c, filepath.Join(dataDir, "appinsights", ingestion.EnvelopesFile)
}

func readEnvelopes(t *testing.T, path string) []ingestion.Envelope {
	t.Helper()
	envs, err := ingestion.ReadEnvelopes(path)
	require.NoError(t, err)
	return envs
}

func text(e ingestion.Envelope) string {
	if e.Name == exceptionEnvelope && len(e.Data.BaseData.Exceptions) > 0 {
		return e.Data.BaseData.Exceptions[0].Message
	}
	return e.Data.BaseData.Message
}

// assertStepArrived checks that every line of one step run arrived exactly
// once, as the right envelope, with its severity and the whole run context.
func assertStepArrived(t *testing.T, envs []ingestion.Envelope, rc runContext) {
	t.Helper()
	var mine []ingestion.Envelope
	for _, e := range sentBySDK(logEnvelopes(envs)) {
		if e.Data.BaseData.Properties["parent_run_id"] == rc.parentRunID {
			mine = append(mine, e)
		}
	}
	require.Len(t, mine, len(stepLines), "one envelope per line the step logged")
	for _, line := range stepLines {
		var found []ingestion.Envelope
		for _, e := range mine {
			if text(e) == line.text {
				found = append(found, e)
			}
		}
		require.Len(t, found, 1, "%q arrived exactly once", line.text)
		e := found[0]
		assert.Equal(t, line.envelope, e.Name, line.text)
		require.NotNil(t, e.Data.BaseData.SeverityLevel, line.text)
		assert.Equal(t, line.severityLevel, *e.Data.BaseData.SeverityLevel, line.text)
		props := e.Data.BaseData.Properties
		assert.Equal(t, line.level, props["Level"], line.text)
		for dim, want := range rc.dimensions() {
			assert.Equal(t, want, props[dim], "%s of %q", dim, line.text)
		}
	}
}

// logEnvelopes are the envelopes log records become.
func logEnvelopes(envs []ingestion.Envelope) []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range envs {
		if e.Name == messageEnvelope || e.Name == exceptionEnvelope {
			out = append(out, e)
		}
	}
	return out
}

// sentBySDK leaves out what runcontext-launch sent about a step itself:
// its captured output (log.iostream) and its summary.
func sentBySDK(envs []ingestion.Envelope) []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range envs {
		if !fromTheLauncher(e) {
			out = append(out, e)
		}
	}
	return out
}

func fromTheLauncher(e ingestion.Envelope) bool {
	p := e.Data.BaseData.Properties
	return p["log.iostream"] != "" || p["event.name"] == stepSummaryEvent
}

// stepSummaryEvent marks the launcher's summary of a step.
const stepSummaryEvent = "runcontext.step.summary"

// traces is Application Insights' traces table: the Message envelopes.
func traces(envs []ingestion.Envelope) []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range envs {
		if e.Name == messageEnvelope {
			out = append(out, e)
		}
	}
	return out
}

func where(envs []ingestion.Envelope, dim, value string) []ingestion.Envelope {
	var out []ingestion.Envelope
	for _, e := range envs {
		if e.Data.BaseData.Properties[dim] == value {
			out = append(out, e)
		}
	}
	return out
}

// assertDocumentQueries runs the four queries of the document the project
// grew from over what arrived, against what the step sent.
func assertDocumentQueries(t *testing.T, envs []ingestion.Envelope, rc runContext) {
	t.Helper()
	sentTraces, sentErrors := 0, 0
	for _, l := range stepLines {
		if l.envelope == messageEnvelope {
			sentTraces++
			if l.level == "ERROR" {
				sentErrors++
			}
		}
	}
	tr := traces(envs)
	// traces | where customDimensions.parent_run_id == '<run>'
	assert.Len(t, where(tr, "parent_run_id", rc.parentRunID), sentTraces)
	// traces | where timestamp > ago(7d) and customDimensions.run_type == 'training'
	assert.Len(t, where(tr, "run_type", "training"), sentTraces)
	// traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR'
	errs := where(tr, "Level", "ERROR")
	require.Len(t, errs, sentErrors)
	assert.Equal(t, "could not write checkpoint", errs[0].Data.BaseData.Message)
	// ... | summarize count()
	assert.Equal(t, 1, len(errs))
}

func TestStepLogsArriveAsApplicationInsightsWouldShowThem(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			c, envelopes := localCollector(t)
			runStep(t, c, protocol, trainingRun)
			// A graceful stop flushes the exporter's channel.
			c.stop(t)

			envs := readEnvelopes(t, envelopes)
			assertStepArrived(t, envs, trainingRun)
			assertDocumentQueries(t, envs, trainingRun)
		})
	}
}

// Two steps share one gateway collector at once, over TLS with its token:
// one reports its run context as resource attributes over gRPC, the other
// as OTLP headers only over HTTP. Every envelope carries its own step's
// context.
func TestGatewayKeepsConcurrentStepsApart(t *testing.T) {
	ingest := ingestiontest.New(t)
	c, secrets := startGateway(t, ingest)

	scoring := runContext{
		parentRunID: "5e0b7c11-run-scoring", stepID: "b2c3d4e5-step-score", stepName: "score",
		experiment: "score-pipeline", runType: "scoring",
	}
	var wg sync.WaitGroup
	var trainingErr, scoringErr error
	wg.Go(func() { trainingErr = stepRun(c, "grpc", trainingRun, secrets.stepEnv()...) })
	wg.Go(func() {
		scoringErr = stepRun(c, "http/protobuf", runContext{},
			"OTEL_RESOURCE_ATTRIBUTES=",
			"OTEL_EXPORTER_OTLP_CERTIFICATE="+secrets.caFile,
			"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20"+secrets.token+
				",x-parent-run-id="+scoring.parentRunID+",x-step-id="+scoring.stepID+
				",x-step-name="+scoring.stepName+",x-experiment-name="+scoring.experiment+",x-run-type="+scoring.runType)
	})
	wg.Wait()
	require.NoError(t, trainingErr)
	require.NoError(t, scoringErr)
	c.stop(t)

	envs := logEnvelopes(ingest.Envelopes(t))
	require.Len(t, envs, 2*len(stepLines))
	assertStepArrived(t, envs, trainingRun)
	for _, e := range envs {
		props := e.Data.BaseData.Properties
		if props["parent_run_id"] != scoring.parentRunID {
			continue
		}
		assert.Equal(t, scoring.stepID, props["step_id"])
		assert.Equal(t, scoring.stepName, props["step_name"])
		assert.Equal(t, scoring.experiment, props["experiment_name"])
		assert.Equal(t, scoring.runType, props["run_type"])
		assert.Empty(t, props["run_url"], "no run_url came with the scoring step")
	}
	assert.Len(t, where(envs, "parent_run_id", scoring.parentRunID), len(stepLines))
	assert.Len(t, where(envs, "run_type", "training"), len(stepLines))
}
