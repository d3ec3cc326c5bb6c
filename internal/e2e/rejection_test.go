// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A wrong instrumentation key: ingestion answers 400, the collector says
// so in its log, and no log line gives the connection string away.
func TestWrongInstrumentationKeyIsLoggedWithoutTheSecret(t *testing.T) {
	const wrongKey = "f00dcafe-5ec2-e7ee-0000-wrongkey0001"
	ingestAddr := freeAddr(t)
	connectionString := "InstrumentationKey=" + wrongKey + ";IngestionEndpoint=http://" + ingestAddr + "/"
	c, _ := localCollector(t,
		"RUNCONTEXT_INGESTION_ENDPOINT="+ingestAddr,
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+connectionString)

	runStep(t, c, "http/protobuf", trainingRun)
	c.waitForOutput(t, 30*time.Second, "Application Insights rejected telemetry items for good", "Invalid instrumentation key")
	c.stop(t)

	out := c.output.String()
	var errorLine string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "rejected telemetry items for good") {
			errorLine = line
		}
		assert.NotContains(t, line, wrongKey, "a log line holds the instrumentation key")
		assert.NotContains(t, line, connectionString, "a log line holds the connection string")
	}
	require.NotEmpty(t, errorLine)
	assert.Contains(t, errorLine, "\terror\t")
	assert.Contains(t, errorLine, `"status": 400`)
}
