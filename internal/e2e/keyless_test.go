// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// Keyless ingestion through config/azure.yaml, as on Azure ML compute: the
// collector takes its tokens from the compute's managed identity endpoint,
// and ingestion takes nothing without one. Ingestion is down while the
// step runs, and the collector stops with the telemetry in its spool; the
// next start signs it afresh and delivers it. No token is ever on disk or
// in a log line.
func TestKeylessDeliverySurvivesARestart(t *testing.T) {
	authority := entraidtest.New(t)
	r := &faultRun{
		ingest:  ingestiontest.New(t),
		dataDir: t.TempDir(),
		env:     append([]string{"RUNCONTEXT_ENTRA_CREDENTIAL=managed_identity"}, authority.ManagedIdentityEnv()...),
	}
	r.ingest.RequireToken(authority.Valid)

	r.ingest.Down()
	r.start(t)
	sent := r.send(t, "keyless", 200)
	r.c.stop(t)
	output := r.c.output.String()
	require.Empty(t, r.received(t), "ingestion was down")

	r.ingest.Up(t)
	r.start(t)
	r.waitFor(t, sent, 60*time.Second)
	r.c.stop(t)
	output += r.c.output.String()

	got := r.received(t)
	for _, id := range sent {
		assert.Equal(t, 1, got[id], id)
	}
	assert.Zero(t, r.ingest.Unauthorized(), "every request carried a valid token")
	authority.AssertNotLeaked(t, r.dataDir, output)
}
