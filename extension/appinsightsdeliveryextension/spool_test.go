// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadatatest"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"
)

// spooled is the extension with a spool in a test's folder, wrapping a
// real transport to a local ingestion endpoint, as the exporter would.
type spooled struct {
	ext  *deliveryExtension
	rt   http.RoundTripper
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
	dir  string
}

// fastRetries keeps the production code path with test-sized waits.
func fastRetries(dir string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Spool.Directory = dir
	cfg.Spool.InitialInterval = 20 * time.Millisecond
	cfg.Spool.MaxInterval = 200 * time.Millisecond
	cfg.Spool.Timeout = 5 * time.Second
	return cfg
}

func startSpooled(t *testing.T, cfg *Config) *spooled {
	t.Helper()
	return startSpooledWith(t, cfg, nil)
}

// startSpooledWith is startSpooled with prepare run on the extension
// before it starts.
func startSpooledWith(t *testing.T, cfg *Config, prepare func(*deliveryExtension)) *spooled {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	core, logs := observer.New(zapcore.DebugLevel)
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	e := ext.(*deliveryExtension)
	if prepare != nil {
		prepare(e)
	}
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	wrap, err := e.GetHTTPRoundTripper(context.Background())
	require.NoError(t, err)
	rt, err := wrap(context.Background(), http.DefaultTransport)
	require.NoError(t, err)
	s := &spooled{ext: e, rt: rt, tel: tel, logs: logs, dir: cfg.Spool.Directory}
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { require.NoError(t, ext.Shutdown(context.Background())) }) })
	return s
}

func (s *spooled) shutdown(t *testing.T) {
	t.Helper()
	require.NoError(t, s.ext.Shutdown(context.Background()))
}

func envelope(id string) string { return envelopeWithKey(testKey, id) }

// testKey is the instrumentation key the tests' envelopes carry.
const testKey = "11111111-2222-3333-4444-555555555555"

func envelopeWithKey(key, id string) string {
	return `{"name":"Microsoft.ApplicationInsights.` + strings.ReplaceAll(key, "-", "") + `.Message","time":"2026-11-27T10:00:00Z","iKey":"` + key + `","data":{"baseType":"MessageData","baseData":{"message":"` + id + `"}}}`
}

// message is an accepted envelope's message: the id the test gave it.
func message(t *testing.T, item []byte) string {
	t.Helper()
	var env struct {
		Data struct {
			BaseData struct {
				Message string `json:"message"`
			} `json:"baseData"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(item, &env))
	return env.Data.BaseData.Message
}

// track sends ids as one gzip'd track request, as ApplicationInsights-Go
// does, and returns the answer's status and body.
func (s *spooled) track(t *testing.T, url string, ids ...string) (int, trackprotocol.Response) {
	t.Helper()
	resp, err := s.rt.RoundTrip(gzipTrack(t, url, ids...))
	require.NoError(t, err)
	defer resp.Body.Close()
	var body trackprotocol.Response
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// received counts how often the endpoint stored each message.
func received(t *testing.T, ingest *tracktest.Server) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, item := range ingest.Accepted() {
		counts[message(t, item)]++
	}
	return counts
}

// waitReceived waits until the endpoint holds every id.
func waitReceived(t *testing.T, ingest *tracktest.Server, want []string) map[string]int {
	t.Helper()
	var got map[string]int
	require.Eventually(t, func() bool {
		got = received(t, ingest)
		for _, id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond, "not every item arrived")
	return got
}

func assertOnce(t *testing.T, got map[string]int, want []string) {
	t.Helper()
	for _, id := range want {
		assert.Equal(t, 1, got[id], "%s arrived %d times", id, got[id])
	}
}

// counter is a counter's total, for one reason when given.
func (s *spooled) counter(t *testing.T, name string, reason ...string) int64 {
	t.Helper()
	m, err := s.tel.GetMetric("otelcol_" + name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if len(reason) > 0 {
			if v, _ := dp.Attributes.Value(attribute.Key("reason")); v.AsString() != reason[0] {
				continue
			}
		}
		total += dp.Value
	}
	return total
}

// deadLetters reads every dead-letter record.
func (s *spooled) deadLetters(t *testing.T) []deadletter.Record {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(s.ext.cfg.Spool.deadLetterDir(), "*.jsonl"))
	require.NoError(t, err)
	var out []deadletter.Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte{'\n'}) {
			var r deadletter.Record
			require.NoError(t, json.Unmarshal(line, &r))
			out = append(out, r)
		}
	}
	return out
}

// assertAccounting checks what an operator's dashboards add up: every item
// the exporter sent is spooled or passed through, and every spooled item
// is delivered, dead-lettered, dropped or still waiting.
func (s *spooled) assertAccounting(t *testing.T) {
	t.Helper()
	received := s.counter(t, "appinsights_delivery_items_received")
	spooled := s.counter(t, "appinsights_delivery_items_spooled")
	assert.Equal(t, received, spooled+s.counter(t, "appinsights_delivery_items_passed_through"), "received = spooled + passed through")
	assert.Equal(t, spooled,
		s.counter(t, "appinsights_delivery_items_delivered")+s.counter(t, "appinsights_delivery_items_dead_lettered")+
			s.counter(t, "appinsights_delivery_items_dropped")+s.ext.spool.Stats().Items,
		"spooled = delivered + dead-lettered + dropped + waiting")
}

// spoolFiles counts the batches on disk.
func (s *spooled) spoolFiles(t *testing.T) int {
	t.Helper()
	batches, err := filepath.Glob(filepath.Join(s.dir, "*.track"))
	require.NoError(t, err)
	return len(batches)
}

func TestSpoolAnswersAcceptedAndDelivers(t *testing.T) {
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("ok", 3)

	status, answer := s.track(t, ingest.URL, sent...)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, trackprotocol.Response{ItemsReceived: 3, ItemsAccepted: 3, Errors: []trackprotocol.ItemError{}}, answer)

	assertOnce(t, waitReceived(t, ingest, sent), sent)
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 3 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(3), s.counter(t, "appinsights_delivery_items_spooled"))
	assert.Equal(t, 0, s.spoolFiles(t))
}

// The endpoint is down: the exporter is answered at once, the request is
// on disk, and it is delivered once the endpoint is back.
func TestSpoolDeliversAfterAnOutage(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Down()
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := append(ids("a", 5), ids("b", 5)...)

	status, _ := s.track(t, ingest.URL, sent[:5]...)
	assert.Equal(t, http.StatusOK, status)
	status, _ = s.track(t, ingest.URL, sent[5:]...)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, 2, s.spoolFiles(t), "both requests wait on disk")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_retried") >= 10 }, 5*time.Second, 10*time.Millisecond)

	ingest.Up(t)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	assert.ElementsMatch(t, sent, messages(t, ingest), "no order is promised, nothing twice")
	warnings := s.logs.FilterMessageSnippet("Could not deliver to Application Insights").All()
	require.Len(t, warnings, 1, "one warning per outage, not one per attempt")
	assert.Equal(t, zapcore.WarnLevel, warnings[0].Level)
	require.Eventually(t, func() bool { return s.logs.FilterMessage("Delivering to Application Insights again").Len() == 1 }, 5*time.Second, 10*time.Millisecond)
}

func messages(t *testing.T, ingest *tracktest.Server) []string {
	t.Helper()
	var out []string
	for _, item := range ingest.Accepted() {
		out = append(out, message(t, item))
	}
	return out
}

func TestSpoolRetriesServiceUnavailable(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Inject(tracktest.Fault{Status: http.StatusServiceUnavailable, Requests: 4})
	ingest.Inject(tracktest.Fault{CloseConnection: true})
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("burst", 4)

	s.track(t, ingest.URL, sent...)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	assert.Equal(t, 6, ingest.Requests(), "4 answered 503, 1 closed, 1 accepted")
	assert.Equal(t, int64(5*4), s.counter(t, "appinsights_delivery_items_retried"))
}

// 429 with Retry-After: the next attempt waits as long as ingestion asks,
// though the backoff alone would be far shorter.
func TestSpoolHonoursRetryAfter(t *testing.T) {
	ingest := tracktest.New(t)
	const retryAfter = 2 * time.Second
	ingest.Inject(tracktest.Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("throttled", 2)

	start := time.Now()
	s.track(t, ingest.URL, sent...)
	require.Eventually(t, func() bool { return ingest.Requests() == 1 }, 5*time.Second, time.Millisecond)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	// Retry-After travels as an HTTP date with whole seconds: allow one.
	assert.GreaterOrEqual(t, time.Since(start), retryAfter-time.Second)
	assert.Equal(t, 2, ingest.Requests())
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 7*time.Second, parseRetryAfter("7", now))
	assert.Equal(t, 30*time.Second, parseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, parseRetryAfter("", now))
	assert.Zero(t, parseRetryAfter("soon", now))
	assert.Zero(t, parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
}

// 206: accepted items are done, rejected ones dropped and counted, and only
// the retryable ones are sent again.
func TestSpoolResendsOnlyRetryableItems(t *testing.T) {
	ingest := tracktest.New(t)
	var mu sync.Mutex
	busy := map[string]bool{}
	ingest.FailItems(func(_ int, envelope []byte) int {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case bytes.Contains(envelope, []byte("bad-")):
			return http.StatusBadRequest
		case bytes.Contains(envelope, []byte("busy-")):
			// Busy the first time each is seen, accepted the next.
			key := string(envelope)
			if !busy[key] {
				busy[key] = true
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	s := startSpooled(t, fastRetries(t.TempDir()))
	good, bad, retried := ids("good", 4), ids("bad", 2), ids("busy", 3)
	s.track(t, ingest.URL, append(append(append([]string{}, good[:2]...), bad[0], retried[0], retried[1]), good[2], bad[1], retried[2], good[3])...)

	want := append(append([]string{}, good...), retried...)
	got := waitReceived(t, ingest, want)
	assertOnce(t, got, want)
	for _, id := range bad {
		assert.Zero(t, got[id])
	}
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 7 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_dead_lettered", reasonRejected))
	assert.Equal(t, int64(3), s.counter(t, "appinsights_delivery_items_retried"))
	assert.Equal(t, 2, ingest.Requests(), "the retryable items went in one request")
	rejected := s.logs.FilterMessage("Application Insights rejected telemetry items for good; they move to the dead letters").All()
	require.Len(t, rejected, 1)
	assert.Equal(t, "2×400, 3×503", rejected[0].ContextMap()["item_errors"])
	letters := s.deadLetters(t)
	require.Len(t, letters, 2)
	for i, l := range letters {
		assert.Equal(t, reasonRejected, l.Reason)
		assert.Equal(t, http.StatusBadRequest, l.Status)
		assert.Equal(t, bad[i], message(t, l.Item), "the item as it was sent")
	}
	s.assertAccounting(t)
}

// A wrong instrumentation key: every item is rejected for good (a 400
// that names each item), moves to the dead letters, is counted, and the
// spool does not keep sending it.
func TestSpoolDeadLettersWhatIsRejectedForGood(t *testing.T) {
	ingest := tracktest.New(t)
	// What ingestion answers an envelope with another resource's key.
	ingest.FailItems(func(int, []byte) int { return http.StatusBadRequest })
	s := startSpooled(t, fastRetries(t.TempDir()))
	s.track(t, ingest.URL, ids("wrongkey", 3)...)
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_dead_lettered", reasonRejected) == 3 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, ingest.Requests())
	assert.Equal(t, 0, s.spoolFiles(t))
	assert.Len(t, s.deadLetters(t), 3)
	s.assertAccounting(t)
}

// Shutdown while ingestion is down leaves the spool on disk; the next
// start delivers it.
func TestSpoolSurvivesRestart(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Down()
	dir := t.TempDir()
	cfg := fastRetries(dir)
	cfg.ShutdownTimeout = 500 * time.Millisecond
	first := startSpooled(t, cfg)
	sent := ids("restart", 6)
	first.track(t, ingest.URL, sent...)
	start := time.Now()
	first.shutdown(t)
	assert.Less(t, time.Since(start), 3*time.Second, "shutdown keeps to its timeout")
	assert.Equal(t, 1, first.spoolFiles(t))
	left := first.logs.FilterMessage("Telemetry not yet delivered stays in the spool; the next start delivers it").All()
	require.Len(t, left, 1)
	assert.Equal(t, int64(6), left[0].ContextMap()["items"])

	ingest.Up(t)
	second := startSpooled(t, fastRetries(dir))
	assert.Equal(t, 1, second.logs.FilterMessageSnippet("left in the spool by an earlier run").Len())
	assertOnce(t, waitReceived(t, ingest, sent), sent)
}

// Shutdown delivers what the spool holds when ingestion is reachable.
func TestShutdownDeliversTheSpool(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Inject(tracktest.Fault{Delay: 300 * time.Millisecond, Requests: 3})
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("last", 9)
	for i := 0; i < 9; i += 3 {
		s.track(t, ingest.URL, sent[i:i+3]...)
	}
	s.shutdown(t)
	assertOnce(t, received(t, ingest), sent)
	assert.Equal(t, 0, s.spoolFiles(t))
}

// A full spool drops its oldest requests that are not being delivered,
// counts them, and keeps taking new ones.
func TestSpoolFullDropsOldest(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Down()
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxBytes = 3 * 4096 // three requests: each takes one block
	// One request under way at most, so there is always one to evict: with
	// all three under way the spool passes the new one through instead
	// (TestWriteFailuresPassThrough).
	cfg.Spool.NumConsumers = 1
	s := startSpooled(t, cfg)
	var batches [][]string
	for i := range 10 {
		batch := ids(fmt.Sprintf("full%d", i), 5)
		batches = append(batches, batch)
		status, _ := s.track(t, ingest.URL, batch...)
		assert.Equal(t, http.StatusOK, status, "the collector keeps taking telemetry")
	}
	dropped := s.counter(t, "appinsights_delivery_items_dropped", reasonSpoolFull)
	assert.Positive(t, dropped)
	assert.Zero(t, dropped%5, "whole requests are dropped")
	assert.Equal(t, int64(35), dropped, "seven of ten requests evicted: three fit")
	assert.LessOrEqual(t, s.ext.spool.Stats().Bytes, cfg.Spool.MaxBytes)
	assert.NotEmpty(t, s.logs.FilterMessageSnippet("The spool is full").All())

	ingest.Up(t)
	// Which three were kept depends on which were being delivered when
	// room was made: a request under way is never evicted. Each request
	// arrives whole, once, or not at all, and the newest always arrives.
	kept := 10 - int(dropped/5)
	var got map[string]int
	require.Eventually(t, func() bool {
		got = received(t, ingest)
		return len(got) == kept*5
	}, 20*time.Second, 20*time.Millisecond, "the kept requests did not arrive")
	arrived := 0
	for _, b := range batches {
		n := 0
		for _, id := range b {
			assert.LessOrEqual(t, got[id], 1, "%s arrived twice", id)
			n += got[id]
		}
		assert.Contains(t, []int{0, 5}, n, "a request arrived in part")
		if n == 5 {
			arrived++
		}
	}
	assert.Equal(t, kept, arrived)
	assertOnce(t, got, batches[9])
	s.assertAccounting(t)
}

// Telemetry older than max_age moves to the dead letters rather than wait
// for ever.
func TestSpoolExpiresOldTelemetry(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Down()
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAge = 300 * time.Millisecond
	s := startSpooled(t, cfg)
	s.track(t, ingest.URL, ids("stale", 4)...)
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_dead_lettered", reasonExpired) == 4 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 0, s.spoolFiles(t))
	assert.Len(t, s.deadLetters(t), 4)
	assert.Equal(t, 1, s.logs.FilterMessageSnippet("older than the spool's max_age").Len())
}

// What the spool holds is visible as telemetry while it waits.
func TestSpoolGauges(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Down()
	s := startSpooled(t, fastRetries(t.TempDir()))
	s.track(t, ingest.URL, ids("g", 7)...)
	time.Sleep(10 * time.Millisecond) // the oldest request's age grows

	items, err := s.tel.GetMetric("otelcol_appinsights_delivery_spool_items")
	require.NoError(t, err)
	assert.Equal(t, int64(7), items.Data.(metricdata.Gauge[int64]).DataPoints[0].Value)
	size, err := s.tel.GetMetric("otelcol_appinsights_delivery_spool_bytes")
	require.NoError(t, err)
	assert.Equal(t, s.ext.spool.Stats().Bytes, size.Data.(metricdata.Gauge[int64]).DataPoints[0].Value)
	assert.Positive(t, size.Data.(metricdata.Gauge[int64]).DataPoints[0].Value)
	age, err := s.tel.GetMetric("otelcol_appinsights_delivery_spool_oldest_age")
	require.NoError(t, err)
	assert.Greater(t, age.Data.(metricdata.Gauge[float64]).DataPoints[0].Value, 0.0)
}

// A request the spool cannot read (not gzip as it claims) is sent on as
// it came, not lost.
func TestSpoolPassesOnWhatItCannotRead(t *testing.T) {
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	req, err := http.NewRequest(http.MethodPost, ingest.URL+"v2.1/track", strings.NewReader(envelope("plain")))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "br")
	resp, err := s.rt.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 1, ingest.Requests())
	assert.Equal(t, 0, s.spoolFiles(t))
	assert.Equal(t, int64(1), s.counter(t, "appinsights_delivery_items_passed_through", reasonUnreadable), "counted as one: its items cannot be counted")
	s.assertAccounting(t)
}

// Ingestion may redirect to a regional endpoint; the spool follows, as
// the exporter's own HTTP client would.
func TestSpoolFollowsRedirects(t *testing.T) {
	ingest := tracktest.New(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, ingest.URL+"v2.1/track", http.StatusPermanentRedirect)
	}))
	defer redirect.Close()
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("moved", 2)
	s.track(t, redirect.URL+"/", sent...)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
}

// A 206 that does not say which items failed: everything is sent again,
// duplicates rather than losses.
func TestSpoolResendsAPartialSuccessWithoutItemErrors(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) == 1 {
			w.WriteHeader(http.StatusPartialContent)
			_, _ = io.WriteString(w, `{"itemsReceived":2,"itemsAccepted":1,"errors":[]}`)
			return
		}
		_, _ = io.WriteString(w, `{"itemsReceived":2,"itemsAccepted":2,"errors":[]}`)
	}))
	defer srv.Close()
	s := startSpooled(t, fastRetries(t.TempDir()))
	s.track(t, srv.URL+"/", ids("unclear", 2)...)
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 2 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int32(2), requests.Load())
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_retried"))
}

// An empty track request is not kept: ingestion answers it.
func TestSpoolPassesOnAnEmptyRequest(t *testing.T) {
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	req, err := http.NewRequest(http.MethodPost, ingest.URL+"v2.1/track", strings.NewReader(""))
	require.NoError(t, err)
	resp, err := s.rt.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 1, ingest.Requests())
	assert.Equal(t, 0, s.spoolFiles(t))
}

// gzipTrack is a track request as ApplicationInsights-Go sends it.
func gzipTrack(t *testing.T, url string, ids ...string) *http.Request {
	t.Helper()
	return gzipTrackWithKey(t, url, testKey, ids...)
}

// gzipTrackWithKey is gzipTrack for a client whose connection string
// names instrumentation key key.
func gzipTrackWithKey(t *testing.T, url, key string, ids ...string) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, id := range ids {
		_, _ = io.WriteString(zw, envelopeWithKey(key, id)+"\n")
	}
	require.NoError(t, zw.Close())
	req, err := http.NewRequest(http.MethodPost, url+"v2.1/track", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-json-stream")
	return req
}

// The spool keeps a request's content type, encoding and user agent, and
// sends them again with every delivery attempt.
func TestSpoolSendsTheAllowListedHeadersAgain(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"itemsReceived":1,"itemsAccepted":1,"errors":[]}`)
	}))
	defer srv.Close()
	s := startSpooled(t, fastRetries(t.TempDir()))
	req := gzipTrack(t, srv.URL+"/", "with-header")
	req.Header.Set("User-Agent", "otelcol-runcontext/test")
	resp, err := s.rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 1 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	for _, h := range seen {
		assert.Equal(t, "otelcol-runcontext/test", h.Get("User-Agent"))
		assert.Equal(t, "gzip", h.Get("Content-Encoding"))
		assert.Equal(t, "application/x-json-stream", h.Get("Content-Type"))
	}
}

// A request that carries any other header (the exporter's auth: or
// headers:, maybe a secret) is sent on at once, never written to disk,
// and the operator told once, by the headers' names only.
func TestSpoolPassesOnRequestsWithOtherHeaders(t *testing.T) {
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	for id, header := range map[string]string{"signed": "Authorization", "keyed": "X-Api-Key"} {
		req := gzipTrack(t, ingest.URL, id)
		req.Header.Set(header, "secret-value")
		resp, err := s.rt.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	assert.Equal(t, 2, ingest.Requests(), "answered by ingestion itself")
	assert.Equal(t, 0, s.spoolFiles(t))
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_passed_through", reasonHeaders))
	s.assertAccounting(t)
	warnings := s.logs.FilterMessageSnippet("carry headers the spool does not write")
	require.Equal(t, 1, warnings.Len())
	for _, entry := range s.logs.All() {
		assert.NotContains(t, fmt.Sprint(entry.Message, entry.ContextMap()), "secret-value")
	}
	holding, err := entraidtest.FilesHolding(s.dir, "secret-value")
	require.NoError(t, err)
	assert.Empty(t, holding, "the header's value is on disk")
}

// A request after shutdown began (the exporter's flush later than the
// quiet period) is sent on and counted, never silently spooled into a
// closed spool.
func TestRequestsAfterShutdownPassThrough(t *testing.T) {
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	s.shutdown(t)
	status, _ := s.track(t, ingest.URL, ids("late", 3)...)
	assert.Equal(t, http.StatusOK, status, "answered by ingestion itself")
	assert.Equal(t, int64(3), s.counter(t, "appinsights_delivery_items_passed_through", reasonShutdown))
	assertOnce(t, received(t, ingest), ids("late", 3))
}

// A spool that cannot be written (here: every request is under way, so
// none can be evicted to make room) sends the request on and counts it.
func TestWriteFailuresPassThrough(t *testing.T) {
	ingest := tracktest.New(t)
	ingest.Inject(tracktest.Fault{Delay: time.Second})
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxBytes = 4096
	cfg.Spool.NumConsumers = 1
	s := startSpooled(t, cfg)
	s.track(t, ingest.URL, ids("slow", 1)...)
	require.Eventually(t, func() bool { return ingest.Requests() == 1 }, 5*time.Second, time.Millisecond)
	s.track(t, ingest.URL, ids("next", 2)...)
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_passed_through", reasonWriteFailed))
	assertOnce(t, waitReceived(t, ingest, []string{"slow-000", "next-000", "next-001"}), []string{"slow-000", "next-000", "next-001"})
	s.assertAccounting(t)
}
