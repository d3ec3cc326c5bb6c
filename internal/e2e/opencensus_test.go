// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// sampleStep is the seed's sample_step.py.
var sampleStep = filepath.Join(repoRoot, "internal", "e2e", "testdata", "steps", "sample_step.py")

// openCensusDifferences are the customDimensions AzureLogHandler writes
// that the OpenTelemetry path cannot, and why.
var openCensusDifferences = map[string]string{
	// logging's processName ("MainProcess"): the OpenTelemetry SDK's
	// LoggingHandler leaves logging's own record fields out of the
	// attributes, and has no process name to send.
	"process": "not sent by the OpenTelemetry Python SDK",
}

// byItem keys envelopes by their type and text.
func byItem(envs []ingestion.Envelope) map[string]ingestion.Envelope {
	out := map[string]ingestion.Envelope{}
	for _, e := range logEnvelopes(envs) {
		key := e.Name + " " + text(e)
		if e.Name == exceptionEnvelope {
			key = e.Name + " " + e.Data.BaseData.Exceptions[0].TypeName
		}
		out[key] = e
	}
	return out
}

// The oracle: the seed's step through OpenCensus' AzureLogHandler, as it
// wrote to Application Insights, and the same calls through the
// OpenTelemetry SDK and the collector with the runcontext's opencensus
// option. Each item of the second carries every customDimension the first
// wrote, with the same value, but for openCensusDifferences.
func TestOpenCensusCompatibilityAgainstAzureLogHandler(t *testing.T) {
	ingest := ingestiontest.New(t)
	oc := exec.Command(pythonEnv(t, "opencensus"), sampleStep)
	oc.Env = append(withoutOTel(os.Environ()), "APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString())
	out, err := oc.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var want map[string]ingestion.Envelope
	require.Eventually(t, func() bool {
		want = byItem(ingest.Envelopes(t))
		return len(want) == 3
	}, 30*time.Second, 50*time.Millisecond, "AzureLogHandler's three items")

	options := mustWriteFile(t, "opencensus.yaml", "processors:\n  runcontext:\n    opencensus: true\n")
	dataDir := t.TempDir()
	c := startCollectorWith(t, []string{configPath("local.yaml"), options},
		"RUNCONTEXT_DATA_DIR="+dataDir, "RUNCONTEXT_INGESTION_ENDPOINT="+freeAddr(t))
	otel := exec.Command(pythonEnv(t, "current"), sampleStep)
	otel.Env = append(withoutOTel(os.Environ()), "STEP_HANDLER=opentelemetry", "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+c.httpAddr)
	out, err = otel.CombinedOutput()
	require.NoError(t, err, "%s", out)
	c.stop(t)
	got := byItem(readEnvelopes(t, filepath.Join(dataDir, "appinsights", ingestion.EnvelopesFile)))

	require.Equal(t, len(want), len(got))
	for item, oracle := range want {
		mine, ok := got[item]
		if !assert.True(t, ok, "%s did not arrive", item) {
			continue
		}
		for key, value := range oracle.Data.BaseData.Properties {
			if _, differs := openCensusDifferences[key]; differs {
				assert.NotContains(t, mine.Data.BaseData.Properties, key, "%s: %s is listed as a difference", item, key)
				continue
			}
			assert.Equal(t, value, mine.Data.BaseData.Properties[key], "%s: customDimensions.%s", item, key)
		}
		assert.Equal(t, oracle.Data.BaseData.SeverityLevel, mine.Data.BaseData.SeverityLevel, "%s: severityLevel", item)
	}
}
