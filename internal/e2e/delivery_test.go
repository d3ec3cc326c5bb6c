// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// Fault injection through the real binary on config/azure.yaml: records
// with unique ids go in through OTLP, Application Insights misbehaves,
// and the endpoint must end up with every record, duplicates counted.
//
// The spool's retry intervals are shortened (yaml: overrides, the same
// code path); RUNCONTEXT_FAULT_OUTAGE sets the outage (default 5s: the
// issue's 5 minutes is `RUNCONTEXT_FAULT_OUTAGE=5m`). With
// RUNCONTEXT_FAULT_BASELINE=1 the same scenarios run on the contrib
// exporter alone (no middleware) and report what it delivered, for
// comparison: scripts/delivery-faults.sh runs both.

const recordIDKey = "record.id"

// fastSpool shortens the spool's waits for tests.
var fastSpool = []string{
	"yaml:extensions::appinsights_delivery::spool::initial_interval: 100ms",
	"yaml:extensions::appinsights_delivery::spool::max_interval: 1s",
}

// contribAlone removes the middleware from every exporter.
var contribAlone = []string{
	"yaml:exporters::azure_monitor/logs::middlewares: []",
	"yaml:exporters::azure_monitor/traces::middlewares: []",
	"yaml:exporters::azure_monitor/metrics::middlewares: []",
}

func baseline() bool { return os.Getenv("RUNCONTEXT_FAULT_BASELINE") == "1" }

func outage(t testing.TB) time.Duration {
	t.Helper()
	v := os.Getenv("RUNCONTEXT_FAULT_OUTAGE")
	if v == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "RUNCONTEXT_FAULT_OUTAGE")
	return d
}

// faultRun is one scenario's collector, endpoint and tally.
type faultRun struct {
	ingest  *ingestiontest.Server
	dataDir string
	extra   []string // yaml: overrides beyond the mode's
	env     []string // environment of every collector, beyond the defaults
	c       *collector
	// lines and linesOffset count the stored envelopes incrementally.
	lines       int
	linesOffset int64
	// starts counts the collectors started on the scenario's folder.
	starts int
}

func newFaultRun(t testing.TB, extra ...string) *faultRun {
	t.Helper()
	r := &faultRun{ingest: ingestiontest.New(t), dataDir: t.TempDir(), extra: extra}
	r.start(t)
	return r
}

func (r *faultRun) start(t testing.TB) {
	t.Helper()
	r.starts++
	configs := []string{configPath("azure.yaml")}
	if baseline() {
		configs = append(configs, contribAlone...)
	} else {
		configs = append(configs, fastSpool...)
	}
	configs = append(configs, r.extra...)
	r.c = startCollectorWith(t, configs, append([]string{
		"APPLICATIONINSIGHTS_CONNECTION_STRING=" + r.ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR=" + r.dataDir,
	}, r.env...)...)
}

// send emits n log records through the Go OTel log SDK over OTLP/HTTP,
// ids prefix-0000 on, and flushes them. The SDK's queue holds all n: the
// SDK, not the collector, would drop what overflows it.
func (r *faultRun) send(t testing.TB, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(r.c.httpAddr), otlploghttp.WithInsecure())
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "faults"))
	provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithMaxQueueSize(max(n, 2048)))))
	logger := provider.Logger("faults")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		var rec otellog.Record
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetBody(attribute.StringValue("record " + ids[i]))
		rec.AddAttributes(attribute.String(recordIDKey, ids[i]))
		logger.Emit(ctx, rec)
	}
	require.NoError(t, provider.Shutdown(ctx), "the collector took every record")
	return ids
}

// received counts the records the endpoint stored, by id.
// It streams the file and decodes only the id: a soak stores millions.
func (r *faultRun) received(t testing.TB) map[string]int {
	t.Helper()
	counts := map[string]int{}
	f, err := os.Open(r.ingest.EnvelopesPath())
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var e struct {
			Name string `json:"name"`
			Data struct {
				BaseData struct {
					Properties struct {
						RecordID string `json:"record.id"`
					} `json:"properties"`
				} `json:"baseData"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		if (e.Name == messageEnvelope || e.Name == exceptionEnvelope) && e.Data.BaseData.Properties.RecordID != "" {
			counts[e.Data.BaseData.Properties.RecordID]++
		}
	}
	require.NoError(t, sc.Err())
	return counts
}

// waitFor waits until the endpoint holds every id of want, at most
// timeout (the baseline may never get there).
func (r *faultRun) waitFor(t testing.TB, want []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		// Counting lines is cheap; parsing every envelope on every poll
		// would take the CPU the collector is measured on.
		if r.storedLines(t) < len(want) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		got := r.received(t)
		missing := 0
		for _, id := range want {
			if got[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storedLines counts the envelopes the endpoint stored, of any kind,
// reading only what was added since the last call.
func (r *faultRun) storedLines(t testing.TB) int {
	t.Helper()
	f, err := os.Open(r.ingest.EnvelopesPath())
	if err != nil {
		return r.lines
	}
	defer f.Close()
	if _, err := f.Seek(r.linesOffset, io.SeekStart); err != nil {
		return r.lines
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		r.lines += bytes.Count(buf[:n], []byte{'\n'})
		r.linesOffset += int64(n)
		if err != nil {
			return r.lines
		}
	}
}

// tally is what a scenario ends with.
type tally struct {
	sent, delivered, duplicated, lost int
}

func (r *faultRun) tally(t testing.TB, sent []string) tally {
	t.Helper()
	got := r.received(t)
	tl := tally{sent: len(sent)}
	for _, id := range sent {
		switch n := got[id]; {
		case n == 0:
			tl.lost++
		default:
			tl.delivered++
			tl.duplicated += n - 1
		}
	}
	return tl
}

// report logs the scenario's figures in one greppable line.
func report(t testing.TB, tl tally, dropped int64) {
	t.Helper()
	mode := "spool"
	if baseline() {
		mode = "contrib alone"
	}
	t.Logf("FAULT %s [%s]: sent %d, delivered %d, duplicated %d, lost %d, counted dropped %d",
		t.Name(), mode, tl.sent, tl.delivered, tl.duplicated, tl.lost, dropped)
}

// metric reads one of the collector's own counters from its Prometheus
// endpoint, summing the series whose labels contain match.
func (r *faultRun) metric(t testing.TB, name, match string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + r.c.metricsAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var total int64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest[0] != ' ' && rest[0] != '{') || !strings.Contains(rest, match) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		require.NoError(t, err, line)
		total += int64(v)
	}
	return total
}

const (
	deliveredMetric    = "otelcol_appinsights_delivery_items_delivered"
	droppedMetric      = "otelcol_appinsights_delivery_items_dropped"
	deadLetteredMetric = "otelcol_appinsights_delivery_items_dead_lettered"
	spooledMetric      = "otelcol_appinsights_delivery_items_spooled"
	spoolItemsGauge    = "otelcol_appinsights_delivery_spool_items"
)

// finish stops the collector gracefully, tallies, reports and, with the
// spool, checks that nothing was lost.
func (r *faultRun) finish(t testing.TB, sent []string, wantDropped map[string]bool) tally {
	t.Helper()
	// Long enough for ApplicationInsights-Go's own last retry (10 s, 30 s
	// and 60 s after the first attempt) in the baseline.
	r.waitFor(t, wantDelivered(sent, wantDropped), 150*time.Second)
	var dropped, deadLettered int64
	if !baseline() {
		dropped = r.metric(t, droppedMetric, "")
		deadLettered = r.metric(t, deadLetteredMetric, "")
		// A collector's counters are its own: after a restart, what the
		// first one spooled is delivered by the second.
		if r.starts == 1 {
			r.assertAccounting(t)
		}
	}
	r.c.stop(t)
	tl := r.tally(t, sent)
	report(t, tl, dropped+deadLettered)
	if baseline() {
		return tl
	}
	got := r.received(t)
	for _, id := range sent {
		if wantDropped[id] {
			assert.Zero(t, got[id], "%s was rejected for good, yet stored", id)
		} else {
			assert.Positive(t, got[id], "%s was lost", id)
		}
	}
	assert.Equal(t, int64(len(wantDropped)), deadLettered, "items_dead_lettered counts what ingestion rejected for good")
	assert.Zero(t, dropped, "nothing is dropped")
	return tl
}

// assertAccounting checks the collector's own metrics add up, as an
// operator's dashboard would: received = spooled + passed through, and
// spooled = delivered + dead-lettered + dropped + waiting.
func (r *faultRun) assertAccounting(t testing.TB) {
	t.Helper()
	received := r.metric(t, "otelcol_appinsights_delivery_items_received", "")
	spooled := r.metric(t, spooledMetric, "")
	passed := r.metric(t, "otelcol_appinsights_delivery_items_passed_through", "")
	assert.Equal(t, received, spooled+passed, "received = spooled + passed through")
	assert.Equal(t, spooled,
		r.metric(t, deliveredMetric, "")+r.metric(t, deadLetteredMetric, "")+r.metric(t, droppedMetric, "")+r.metric(t, spoolItemsGauge, ""),
		"spooled = delivered + dead-lettered + dropped + waiting")
}

func wantDelivered(sent []string, dropped map[string]bool) []string {
	var out []string
	for _, id := range sent {
		if !dropped[id] {
			out = append(out, id)
		}
	}
	return out
}

func TestFaultOutage(t *testing.T) {
	r := newFaultRun(t)
	r.ingest.Down()
	sent := r.send(t, "outage", 300)
	time.Sleep(outage(t))
	r.ingest.Up(t)
	tl := r.finish(t, sent, nil)
	if !baseline() {
		assert.Zero(t, tl.duplicated, "an outage without answers duplicates nothing")
	}
}

func TestFaultServiceUnavailableBursts(t *testing.T) {
	r := newFaultRun(t)
	// Bursts of 503 with good answers between them.
	for range 3 {
		r.ingest.Inject(ingestiontest.Fault{Status: http.StatusServiceUnavailable, Requests: 3})
		r.ingest.Inject(ingestiontest.Fault{Delay: time.Millisecond})
	}
	var sent []string
	for i := range 3 {
		sent = append(sent, r.send(t, fmt.Sprintf("burst%d", i), 100)...)
	}
	r.finish(t, sent, nil)
}

func TestFaultThrottledWithRetryAfter(t *testing.T) {
	r := newFaultRun(t)
	r.ingest.Inject(ingestiontest.Fault{Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second, Requests: 2})
	sent := r.send(t, "throttled", 200)
	r.finish(t, sent, nil)
}

// 206: one record in ten rejected for good (400), one in ten busy (503)
// the first time it is seen.
func TestFaultPartialSuccess(t *testing.T) {
	r := newFaultRun(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	r.ingest.FailItems(func(_ int, envelope []byte) int {
		i := bytes.Index(envelope, []byte(`"record partial-`))
		if i < 0 {
			return 0
		}
		id := string(envelope[i+len(`"record `) : i+len(`"record partial-0000`)])
		n, _ := strconv.Atoi(id[len("partial-"):])
		switch n % 10 {
		case 0:
			return http.StatusBadRequest
		case 1:
			mu.Lock()
			defer mu.Unlock()
			if !seen[id] {
				seen[id] = true
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	sent := r.send(t, "partial", 300)
	rejected := map[string]bool{}
	for i := 0; i < len(sent); i += 10 {
		rejected[sent[i]] = true
	}
	r.finish(t, sent, rejected)
}

// SIGKILL while ingestion is down: the spool on disk is all there is.
func TestFaultKilledWhileDown(t *testing.T) {
	r := newFaultRun(t)
	r.ingest.Down()
	sent := r.send(t, "killed", 300)
	if !baseline() {
		// Killed once every record is on disk (answered as accepted).
		r.waitForSpooled(t, len(sent))
	} else {
		time.Sleep(3 * time.Second) // the exporter's batch interval and first attempt
	}
	require.NoError(t, r.c.cmd.Process.Kill())
	<-r.c.done
	r.c.done <- nil

	r.ingest.Up(t)
	r.start(t)
	tl := r.finish(t, sent, nil)
	if !baseline() {
		assert.Equal(t, len(sent), tl.delivered)
	}
}

// The step ends during an outage: SIGTERM, the collector gives the spool
// its shutdown_timeout, leaves the rest on disk and exits; the next
// collector on the folder delivers it.
func TestFaultStoppedWhileDown(t *testing.T) {
	r := newFaultRun(t, "yaml:extensions::appinsights_delivery::shutdown_timeout: 2s")
	r.ingest.Down()
	sent := r.send(t, "stopped", 300)
	r.c.stop(t)
	if !baseline() {
		r.c.waitForOutput(t, time.Second, "Telemetry not yet delivered stays in the spool")
	}

	r.ingest.Up(t)
	r.start(t)
	if !baseline() {
		r.c.waitForOutput(t, 10*time.Second, "Delivering telemetry left in the spool by an earlier run")
	}
	tl := r.finish(t, sent, nil)
	if !baseline() {
		assert.Zero(t, tl.duplicated)
	}
}

// A spool of 24 KiB (six blocks): the oldest requests are dropped and
// counted, the collector keeps taking telemetry, and what was kept
// arrives.
func TestFaultSpoolFull(t *testing.T) {
	require.False(t, baseline(), "the contrib exporter has no spool to fill: scripts/delivery-faults.sh leaves this scenario out of the baseline")
	r := newFaultRun(t, "yaml:extensions::appinsights_delivery::spool::max_bytes: 24576")
	r.ingest.Down()
	var rounds [][]string
	for i := range 8 {
		rounds = append(rounds, r.send(t, fmt.Sprintf("full%d", i), 200))
		// One round, one track request at least: the next round starts
		// once this one is on disk.
		r.waitForSpooled(t, (i+1)*200)
	}
	dropped := r.metric(t, droppedMetric, `reason="spool_full"`)
	require.Positive(t, dropped, "the spool never filled (%d bytes): make the rounds larger", r.metric(t, "otelcol_appinsights_delivery_spool_bytes", ""))
	assert.LessOrEqual(t, r.metric(t, "otelcol_appinsights_delivery_spool_bytes", ""), int64(24576))
	held := int(r.metric(t, spoolItemsGauge, ""))
	r.ingest.Up(t)

	var sent []string
	for _, round := range rounds {
		sent = append(sent, round...)
	}
	// The newest records are the ones kept.
	r.waitFor(t, sent[len(sent)-held:], 60*time.Second)
	r.c.stop(t)
	tl := r.tally(t, sent)
	report(t, tl, dropped)
	assert.Equal(t, int(dropped), tl.lost, "every record lost was counted as dropped")
	assert.Zero(t, tl.duplicated)
	got := r.received(t)
	assert.Zero(t, got[sent[0]], "the oldest record was kept, yet the spool was full")
	assert.Positive(t, got[sent[len(sent)-1]], "the newest record was dropped")
}

// waitForSpooled waits until the collector has spooled n items in all.
func (r *faultRun) waitForSpooled(t testing.TB, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.metric(t, spooledMetric, "") >= int64(n) },
		30*time.Second, 50*time.Millisecond, "the exporter never handed %d records to the spool", n)
}

// Two collectors on one spool folder would send everything twice: the
// second refuses to start and says why.
func TestSecondCollectorOnOneSpoolRefusesToStart(t *testing.T) {
	r := newFaultRun(t)
	out, err := runCollectorCommand(t, []string{
		"APPLICATIONINSIGHTS_CONNECTION_STRING=" + r.ingest.ConnectionString(),
		"RUNCONTEXT_DATA_DIR=" + r.dataDir,
		"RUNCONTEXT_OTLP_GRPC_ENDPOINT=" + freeAddr(t),
		"RUNCONTEXT_OTLP_HTTP_ENDPOINT=" + freeAddr(t),
		"RUNCONTEXT_METRICS_PORT=" + portOf(t, freeAddr(t)),
	}, "--config", configPath("azure.yaml"))
	require.Error(t, err, "a second collector started on the same spool")
	assert.Contains(t, out, "another collector is using this spool folder")
	r.c.stop(t)
}

// Ingestion answers 401, 403 or 404 for a while (a rotated key, local
// authentication turned off, a proxy in the way), then takes telemetry
// again: every record arrives. RUNCONTEXT_FAULT_OUTAGE sets how long
// (scripts/delivery-faults.sh: 20 s).
func TestFaultAuthLikeAnswers(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		// One after the other: freeAddr's ports are free when picked, and
		// collectors starting at once could take each other's.
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			r := newFaultRun(t)
			until := time.Now().Add(outage(t))
			r.ingest.FailRequests(func([][]byte) int {
				if time.Now().Before(until) {
					return status
				}
				return 0
			})
			sent := r.send(t, "auth", 1000)
			r.finish(t, sent, nil)
		})
	}
}

// Ingestion answers 503 to any request holding a marked record. The
// records that follow it arrive within a minute, and the poisoned request
// moves to the dead letters after max_attempts failures while they are
// delivered (3 here, 10 in the shipped config).
func TestFaultPoisonedRequest(t *testing.T) {
	require.False(t, baseline(), "ApplicationInsights-Go drops such a request after its third retry: nothing to compare")
	r := newFaultRun(t, "yaml:extensions::appinsights_delivery::spool::max_attempts: 3")
	r.ingest.FailRequests(func(items [][]byte) int {
		for _, item := range items {
			if bytes.Contains(item, []byte("record poison-")) {
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	r.send(t, "poison", 1)
	// The exporter sends every second: the next records go in later
	// requests.
	time.Sleep(1500 * time.Millisecond)
	start := time.Now()
	var sent []string
	for i := 0; i < 10 && time.Since(start) < 60*time.Second; i++ {
		sent = append(sent, r.send(t, fmt.Sprintf("after%d", i), 100)...)
		time.Sleep(500 * time.Millisecond)
	}
	r.waitFor(t, sent, 60*time.Second-time.Since(start))
	tl := r.tally(t, sent)
	assert.Equal(t, len(sent), tl.delivered, "records behind a poisoned request were held back")
	t.Logf("FAULT %s: %d records behind a poisoned request arrived in %s", t.Name(), len(sent), time.Since(start).Round(100*time.Millisecond))
	// Records keep coming, so the poisoned request's failures count.
	require.Eventually(t, func() bool {
		r.send(t, "more", 10)
		return r.metric(t, deadLetteredMetric, `reason="retries_exhausted"`) >= 1
	}, 60*time.Second, 500*time.Millisecond, "the poisoned request never reached the dead letters")
	letters, err := os.ReadFile(firstFile(t, r.dataDir+"/spool/dead-letters"))
	require.NoError(t, err)
	assert.Contains(t, string(letters), "record poison-0000")
	assert.Contains(t, string(letters), `"reason":"retries_exhausted"`)
	r.c.stop(t)
}

// firstFile is the first file of a folder.
func firstFile(t testing.TB, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "%s is empty", dir)
	return dir + "/" + entries[0].Name()
}

// BenchmarkDeliveryLatency measures how long 20 000 records take from the
// step's SDK to the endpoint's store when every ingestion round trip takes
// 0, 100 or 500 ms: with the spool (config/azure.yaml as shipped) and with
// the contrib exporter alone, in one run, so that their ratio holds on a
// noisy machine. scripts/bench-delivery.sh runs it; it reports
// s_to_deliver per case.
func BenchmarkDeliveryLatency(b *testing.B) {
	const records = 20000
	for _, latency := range []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond} {
		for _, mode := range []struct {
			name    string
			configs []string
		}{
			{"spool", nil},
			{"exporter_alone", contribAlone},
		} {
			b.Run(fmt.Sprintf("latency=%s/%s", latency, mode.name), func(b *testing.B) {
				for b.Loop() {
					ingest := ingestiontest.New(b)
					if latency > 0 {
						ingest.Inject(ingestiontest.Fault{Delay: latency, Requests: 1 << 30})
					}
					r := &faultRun{ingest: ingest, dataDir: b.TempDir()}
					r.c = startCollectorWith(b, append([]string{configPath("azure.yaml")}, mode.configs...),
						"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString(),
						"RUNCONTEXT_DATA_DIR="+r.dataDir)
					start := time.Now()
					sent := r.send(b, "latency", records)
					r.waitFor(b, sent, 5*time.Minute)
					elapsed := time.Since(start)
					tl := r.tally(b, sent)
					require.Equal(b, records, tl.delivered, "not every record arrived")
					b.ReportMetric(elapsed.Seconds(), "s_to_deliver")
					r.c.stop(b)
				}
			})
		}
	}
}

// BenchmarkLongOutage keeps a steady load of 2 000 records a second on the
// collector while ingestion is down for RUNCONTEXT_SOAK_OUTAGE (default
// 10 minutes), then brings it back. It reports how long the spool takes to
// catch up, the collector's peak RSS, and the most disk the spool used
// against max_bytes. scripts/delivery-soak.sh runs it.
func BenchmarkLongOutage(b *testing.B) {
	down := 10 * time.Minute
	if v := os.Getenv("RUNCONTEXT_SOAK_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(b, err)
		down = d
	}
	const perSecond = 2000
	for b.Loop() {
		r := newFaultRun(b)
		r.ingest.Down()
		var sent []string
		var peakSpool int64
		start := time.Now()
		for i := 0; time.Since(start) < down; i++ {
			tick := time.Now()
			sent = append(sent, r.send(b, fmt.Sprintf("soak%06d", i), perSecond)...)
			peakSpool = max(peakSpool, r.metric(b, "otelcol_appinsights_delivery_spool_bytes", ""))
			time.Sleep(time.Second - time.Since(tick))
		}
		back := time.Now()
		r.ingest.Up(b)
		r.waitFor(b, sent, 30*time.Minute)
		catchUp := time.Since(back)
		rss := peakRSS(b, r.c.cmd.Process.Pid)
		tl := r.tally(b, sent)
		r.c.stop(b)
		require.Equal(b, len(sent), tl.delivered, "records were lost")
		b.ReportMetric(float64(len(sent)), "records")
		b.ReportMetric(catchUp.Seconds(), "s_to_catch_up")
		b.ReportMetric(float64(rss)/(1<<20), "MiB_peak_rss")
		b.ReportMetric(float64(peakSpool)/(1<<20), "MiB_peak_spool")
		b.ReportMetric(float64(tl.duplicated), "duplicated")
	}
}

// peakRSS reads a process's peak resident set size, in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// SIGKILL while requests are in flight (each ingestion answer takes half a
// second): at least once still holds, and the duplicates are counted.
func TestFaultKilledDuringParallelDelivery(t *testing.T) {
	require.False(t, baseline(), "the contrib exporter alone loses what its channel held: TestFaultKilledWhileDown compares that")
	r := newFaultRun(t)
	r.ingest.Inject(ingestiontest.Fault{Delay: 500 * time.Millisecond, Requests: 1 << 30})
	var sent []string
	for i := range 5 {
		sent = append(sent, r.send(t, fmt.Sprintf("inflight%d", i), 300)...)
	}
	require.Eventually(t, func() bool { return r.ingest.MaxInFlight() >= 2 }, 30*time.Second, 10*time.Millisecond,
		"requests were never in flight at once")
	// What the claim is about: every record on disk. The OTLP answer
	// comes before the exporter's channel has handed its last batch to
	// the spool (up to maxbatchinterval later), and a kill before then
	// loses that batch by design (TestFaultKilledWhileDown).
	r.waitForSpooled(t, len(sent))
	require.NoError(t, r.c.cmd.Process.Kill())
	<-r.c.done
	r.c.done <- nil

	r.start(t)
	r.waitFor(t, sent, 60*time.Second)
	r.c.stop(t)
	tl := r.tally(t, sent)
	report(t, tl, 0)
	assert.Zero(t, tl.lost, "a record acknowledged as on disk was lost")
}

// A spool file that is not what the spool wrote (a disk error, a person)
// is moved to quarantine at start, kept, logged; the rest is delivered.
func TestFaultCorruptSpoolFileAtStart(t *testing.T) {
	require.False(t, baseline(), "no spool without the middleware")
	dataDir := t.TempDir()
	spoolDir := dataDir + "/spool"
	require.NoError(t, os.MkdirAll(spoolDir, 0o700))
	require.NoError(t, os.WriteFile(spoolDir+"/00000000000000000001.track", []byte("not a spool file\n"), 0o600))
	r := &faultRun{ingest: ingestiontest.New(t), dataDir: dataDir}
	r.start(t)
	r.c.waitForOutput(t, 10*time.Second, "could not be read to the quarantine folder")
	sent := r.send(t, "aftercorrupt", 100)
	r.finish(t, sent, nil)
	kept, err := os.ReadFile(spoolDir + "/quarantine/00000000000000000001.track")
	require.NoError(t, err, "the corrupt file was not kept")
	assert.Equal(t, "not a spool file\n", string(kept))
}
