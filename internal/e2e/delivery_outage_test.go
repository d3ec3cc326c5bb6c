// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// Outages with a twist a review found, through the real binary on
// config/azure.yaml, in scripts/delivery-faults.sh's table like the rest
// of delivery_test.go.

// With the collector's own tracing on, the exporter's HTTP client puts a
// traceparent on every track request. It is the attempt's, not the
// request's: the spool keeps every request all the same, and an outage
// loses nothing.
func TestFaultOutageWithSelfTracing(t *testing.T) {
	var spanExports atomic.Int64
	spans := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		spanExports.Add(1)
	}))
	t.Cleanup(spans.Close)
	r := newFaultRun(t,
		"yaml:service::telemetry::traces::propagators: [tracecontext]",
		// The v0.2 form of the exporter: the collector panics on the v0.3
		// form (otlp_http:), open-telemetry/opentelemetry-collector#13275.
		fmt.Sprintf("yaml:service::telemetry::traces::processors: [{batch: {schedule_delay: 200, exporter: {otlp: {protocol: http/protobuf, endpoint: %q}}}}]", spans.URL+"/v1/traces"),
	)
	r.ingest.Down()
	sent := r.send(t, "selftraced", 300)
	time.Sleep(outage(t))
	r.ingest.Up(t)
	if !baseline() {
		r.waitFor(t, sent, 60*time.Second)
		assert.Zero(t, r.metric(t, "otelcol_appinsights_delivery_items_passed_through", ""),
			"requests went around the spool because of their trace context")
	}
	tl := r.finish(t, sent, nil)
	require.Positive(t, spanExports.Load(), "the collector's own tracing was never on: the scenario proves nothing")
	if !baseline() {
		assert.Zero(t, tl.duplicated)
	}
}

// The spool's files are damaged during an outage (a disk error, a
// person), all but the newest: the requests the outage probes with cannot
// be read. They go to quarantine, counted; the next probe is sent, and
// delivery goes on without a restart.
func TestFaultUnreadableProbe(t *testing.T) {
	require.False(t, baseline(), "the contrib exporter has no spool to damage: scripts/delivery-faults.sh leaves this scenario out of the baseline")
	r := newFaultRun(t)
	r.ingest.Down()
	var sent []string
	for i := range 6 {
		sent = append(sent, r.send(t, fmt.Sprintf("probe%d", i), 50)...)
		r.waitForSpooled(t, len(sent))
	}
	r.c.waitForOutput(t, 30*time.Second, "Could not deliver to Application Insights")
	spoolDir := filepath.Join(r.dataDir, "spool")
	files, err := filepath.Glob(filepath.Join(spoolDir, "*.track"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 2, "the rounds went into one request")
	slices.Sort(files)
	for _, f := range files[:len(files)-1] {
		damage(t, f)
	}
	r.ingest.Up(t)

	// The newest request, behind the damaged ones, still arrives.
	r.waitFor(t, sent[len(sent)-1:], 60*time.Second)
	// and every damaged one is settled, once its backoff let it be read.
	require.Eventually(t, func() bool { return r.metric(t, spoolItemsGauge, "") == 0 }, 60*time.Second, 100*time.Millisecond,
		"the damaged requests never left the spool")
	unreadable := r.metric(t, droppedMetric, `reason="unreadable"`)
	r.assertAccounting(t)
	r.c.stop(t)
	tl := r.tally(t, sent)
	report(t, tl, unreadable)
	assert.Equal(t, int(unreadable), tl.lost, "every record lost was counted as unreadable")
	assert.Positive(t, tl.delivered)
	assert.Zero(t, tl.duplicated)
	quarantined, err := filepath.Glob(filepath.Join(spoolDir, "quarantine", "*.track"))
	require.NoError(t, err)
	assert.Len(t, quarantined, len(files)-1, "every damaged file is kept in quarantine")
}

// damage flips a byte in the middle of a file: its checksum no longer
// holds.
func damage(t testing.TB, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return // delivered or moved meanwhile
	}
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, st.Size()/2)
	require.NoError(t, err)
	b[0] ^= 0xff
	_, err = f.WriteAt(b, st.Size()/2)
	require.NoError(t, err)
}

// The connection string names an instrumentation key that Application
// Insights does not know (a typo, a deleted resource): ingestion answers
// 400 "Invalid instrumentation key" for every item. That is the
// operator's to fix, not the telemetry's fault: one error names the
// connection string, and the spool keeps everything instead of
// dead-lettering it. The operator fixes the connection string and
// restarts (docs/delivery.md); every record arrives.
func TestFaultInvalidInstrumentationKey(t *testing.T) {
	r := &faultRun{ingest: ingestiontest.New(t), dataDir: t.TempDir()}
	r.env = []string{"APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=" + r.ingest.URL}
	r.start(t)
	sent := r.send(t, "badkey", 300)
	if !baseline() {
		r.c.waitForOutput(t, 30*time.Second, "refuses the instrumentation key of every item", "APPLICATIONINSIGHTS_CONNECTION_STRING")
		time.Sleep(outage(t))
		assert.Zero(t, r.metric(t, deadLetteredMetric, ""), "telemetry was dead-lettered for a wrong key")
		assert.Equal(t, int64(len(sent)), r.metric(t, spoolItemsGauge, ""), "the spool kept every record")
		r.assertAccounting(t)
	} else {
		time.Sleep(outage(t))
	}
	r.c.stop(t)

	// The operator's fix: the right connection string, and a restart. The
	// backlog goes out with the key the exporter sends with now.
	r.env = nil
	r.start(t)
	sent = append(sent, r.send(t, "fixedkey", 10)...)
	tl := r.finish(t, sent, nil)
	if !baseline() {
		assert.Zero(t, tl.duplicated)
	}
}
