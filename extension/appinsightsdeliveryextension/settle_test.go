// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool/spooltest"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"
)

// startOnDisk is startSpooled on a disk the test can fail.
func startOnDisk(t *testing.T, cfg *Config, fs *spooltest.FaultFS) *spooled {
	t.Helper()
	return startSpooledWith(t, cfg, func(e *deliveryExtension) {
		e.spoolOptions = []spool.Option{spool.WithFileSystem(fs)}
	})
}

// When the request chosen to probe an outage cannot be read, the probe
// still ends: delivery resumes as soon as ingestion does.
func TestAnUnreadableProbeDoesNotStallDelivery(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.Inject(tracktest.Fault{Status: http.StatusServiceUnavailable, Requests: 1 << 20})
	cfg := fastRetries(t.TempDir())
	cfg.Spool.NumConsumers = 2
	fs := &spooltest.FaultFS{}
	s := startOnDisk(t, cfg, fs)
	sent := s.trackRequests(t, ingest.URL, "probe", 4, 1, 0)
	// An outage: two requests failed on their first attempt.
	require.Eventually(t, func() bool { return ingest.Requests() >= 2 }, 10*time.Second, time.Millisecond)
	// The next reads fail: the probes of the outage cannot be read.
	fs.OnRead(spooltest.Times(3, &os.PathError{Op: "open", Err: syscall.EIO}))
	require.Eventually(t, func() bool { return s.logs.FilterMessageSnippet("Could not read a spooled request").Len() > 0 },
		10*time.Second, time.Millisecond)
	ingest.ClearFaults()
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	s.assertAccounting(t)
}

// A read error that may pass (EMFILE, EIO, EACCES) is not corruption: the
// request stays and is delivered once the disk answers.
func TestATransientReadErrorKeepsTheRequest(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	fs := &spooltest.FaultFS{}
	fs.OnRead(spooltest.Times(3, &os.PathError{Op: "open", Err: syscall.EMFILE}))
	s := startOnDisk(t, fastRetries(t.TempDir()), fs)
	sent := ids("emfile", 3)
	s.track(t, ingest.URL, sent...)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	assert.Zero(t, s.counter(t, "appinsights_delivery_items_dropped"), "nothing lost")
	_, err := os.Stat(filepath.Join(s.dir, spool.QuarantineDir))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing quarantined")
	require.Eventually(t, func() bool { return s.ext.spool.Stats().Items == 0 }, 5*time.Second, time.Millisecond)
	s.assertAccounting(t)
}

// A request that expires while its file cannot be read is released, not
// held: once the disk answers, it is dead-lettered as expired.
func TestExpiringAnUnreadableRequestReleasesIt(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.Inject(tracktest.Fault{Status: http.StatusServiceUnavailable, Requests: 1 << 20})
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAge = 300 * time.Millisecond
	fs := &spooltest.FaultFS{}
	s := startOnDisk(t, cfg, fs)
	s.track(t, ingest.URL, ids("old", 2)...)
	fs.OnRead(func(string) error { return &os.PathError{Op: "open", Err: syscall.EIO} })
	time.Sleep(cfg.Spool.MaxAge) // expired now, and unreadable
	require.Eventually(t, func() bool { return s.logs.FilterMessageSnippet("Could not read a spooled request").Len() > 0 },
		10*time.Second, time.Millisecond)
	fs.OnRead(nil)
	letters := s.waitDeadLettered(t, reasonExpired, 2)
	assert.Equal(t, reasonExpired, letters[0].Reason)
	s.assertAccounting(t)
}

// A request whose items ingestion keeps answering retryable while it
// takes the others is given up on after max_attempts, not after max_age.
func TestRetryableItemsCountTowardsMaxAttempts(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.FailItems(func(_ int, item []byte) int {
		if bytes.Contains(item, []byte("stuck-001")) {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAttempts = 3
	s := startSpooled(t, cfg)
	s.track(t, ingest.URL, ids("stuck", 2)...)
	// Other telemetry keeps arriving, and ingestion takes it.
	others := 0
	require.Eventually(t, func() bool {
		s.track(t, ingest.URL, ids(fmt.Sprintf("other%d", others), 1)...)
		others++
		return s.counter(t, "appinsights_delivery_items_dead_lettered", reasonRetriesExhausted) == 1
	}, 10*time.Second, 50*time.Millisecond)
	letters := s.deadLetters(t)
	require.Len(t, letters, 1)
	assert.Equal(t, "stuck-001", message(t, letters[0].Item))
	assert.Equal(t, http.StatusServiceUnavailable, letters[0].Status)
	require.Eventually(t, func() bool { return s.ext.spool.Stats().Items == 0 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, int64(1+others), s.counter(t, "appinsights_delivery_items_delivered"))
	s.assertAccounting(t)
}

// An answer whose every item is retryable took nothing: it is a failure
// like a 503, which an outage is made of, not a success that ends one.
func TestEveryItemRetryableIsAnOutage(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.FailItems(func(int, []byte) int { return http.StatusServiceUnavailable })
	cfg := fastRetries(t.TempDir())
	cfg.Spool.NumConsumers = 2
	cfg.Spool.MaxAttempts = 1
	s := startSpooled(t, cfg)
	sent := s.trackRequests(t, ingest.URL, "busy", 4, 2, 0)
	require.Eventually(t, func() bool { return ingest.Requests() >= 8 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, 1, s.logs.FilterMessageSnippet("Could not deliver to Application Insights").Len(), "one warning for the episode")
	assert.Zero(t, s.counter(t, "appinsights_delivery_items_dead_lettered"), "no strikes while nothing is taken")
	ingest.FailItems(nil)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	require.Eventually(t, func() bool { return s.logs.FilterMessageSnippet("Delivering to Application Insights again").Len() == 1 },
		5*time.Second, time.Millisecond)
	s.assertAccounting(t)
}

// A connection string whose key ingestion refuses is a configuration
// error: one error names it, the backlog stays, nothing is dead-lettered,
// and all of it is delivered once the key is right.
func TestARefusedKeyKeepsTheBacklog(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.RefuseKey(testKey)
	cfg := fastRetries(t.TempDir())
	cfg.Spool.NumConsumers = 2
	cfg.Spool.MaxAttempts = 1
	s := startSpooled(t, cfg)
	sent := s.trackRequests(t, ingest.URL, "key", 5, 3, 0)
	require.Eventually(t, func() bool { return ingest.Requests() >= 10 }, 10*time.Second, time.Millisecond)
	errs := s.logs.FilterMessageSnippet("refuses the instrumentation key").All()
	require.Len(t, errs, 1, "one error for the episode")
	assert.Contains(t, errs[0].ContextMap()["what_to_do"], "APPLICATIONINSIGHTS_CONNECTION_STRING")
	assert.Zero(t, s.counter(t, "appinsights_delivery_items_dead_lettered"))
	assert.Equal(t, int64(15), s.ext.spool.Stats().Items, "the backlog is kept")
	ingest.RefuseKey("")
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	s.assertAccounting(t)
}

// refusedThenRestarted spools 12 records that ingestion refuses for
// their key, restarts the extension on the same spool as an operator
// does after fixing the connection string (rekey_refused as given), and
// sends one record with the new key.
func refusedThenRestarted(t *testing.T, rekey bool, newKey string) (*spooled, *tracktest.Server, []string) {
	ingest := tracktest.New(t)
	ingest.RefuseKey(testKey)
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAttempts = 1
	cfg.Spool.RekeyRefused = rekey
	cfg.ShutdownTimeout = 200 * time.Millisecond
	first := startSpooled(t, cfg)
	sent := first.trackRequests(t, ingest.URL, "old", 4, 3, 0)
	require.Eventually(t, func() bool { return first.logs.FilterMessageSnippet("refuses the instrumentation key").Len() > 0 },
		10*time.Second, time.Millisecond)
	assert.Zero(t, first.counter(t, "appinsights_delivery_items_dead_lettered"))
	first.shutdown(t)

	second := startSpooled(t, cfg)
	resp, err := second.rt.RoundTrip(gzipTrackWithKey(t, ingest.URL, newKey, "new"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return second, ingest, append(sent, "new")
}

// With rekey_refused, once the exporters send with another key (the
// operator fixed the connection string and restarted), the backlog
// refused for the old one is sent again with the new key: every record
// arrives, with it.
func TestARefusedKeyBacklogIsSentWithTheNewKey(t *testing.T) {
	t.Parallel()
	const newKey = "99999999-8888-7777-6666-555555555555"
	second, ingest, sent := refusedThenRestarted(t, true, newKey)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	for _, item := range ingest.Accepted() {
		assert.Equal(t, newKey, trackprotocol.InstrumentationKey(item))
		assert.Contains(t, string(item), `"Microsoft.ApplicationInsights.99999999888877776666555555555555.Message"`)
	}
	warned := second.logs.FilterMessageSnippet("sent again with the key the exporters use now").All()
	require.Len(t, warned, 1)
	assert.NotContains(t, fmt.Sprint(warned[0].ContextMap()), newKey, "no log line holds an instrumentation key")
	assert.Zero(t, second.counter(t, "appinsights_delivery_items_dead_lettered"))
	assert.Eventually(t, func() bool { return second.counter(t, "appinsights_delivery_items_delivered") == int64(len(sent)) },
		10*time.Second, time.Millisecond, "the earlier run's backlog and the new record are counted delivered")
}

// Without rekey_refused (the component's default: it cannot know that
// its exporters share one key), the refused backlog is never rewritten.
func TestARefusedKeyBacklogIsKeptWithoutRekeyRefused(t *testing.T) {
	t.Parallel()
	const newKey = "99999999-8888-7777-6666-555555555555"
	second, ingest, sent := refusedThenRestarted(t, false, newKey)
	waitReceived(t, ingest, []string{"new"})
	// Once the new record's request is removed, only the backlog is left,
	// and it stays while ingestion keeps refusing it.
	require.Eventually(t, func() bool { return second.ext.spool.Stats().Items == int64(len(sent)-1) }, 10*time.Second, time.Millisecond)
	refusals := ingest.Requests()
	require.Eventually(t, func() bool { return ingest.Requests() >= refusals+8 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, int64(len(sent)-1), second.ext.spool.Stats().Items, "the refused backlog stays")
	assert.Len(t, ingest.Accepted(), 1)
	assert.Zero(t, second.logs.FilterMessageSnippet("sent again with the key").Len())
}

// With exporters of two keys on one spool, which key the operator meant
// is unknown: nothing is re-keyed, and the refused backlog stays.
func TestARefusedKeyIsNotGuessedAmongSeveral(t *testing.T) {
	t.Parallel()
	const otherKey = "99999999-8888-7777-6666-555555555555"
	ingest := tracktest.New(t)
	ingest.RefuseKey(testKey)
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAttempts = 1
	cfg.Spool.RekeyRefused = true
	s := startSpooled(t, cfg)
	sent := s.trackRequests(t, ingest.URL, "old", 2, 3, 0)
	resp, err := s.rt.RoundTrip(gzipTrackWithKey(t, ingest.URL, otherKey, "other"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	waitReceived(t, ingest, []string{"other"})
	require.Eventually(t, func() bool { return s.ext.spool.Stats().Items == int64(len(sent)) }, 10*time.Second, time.Millisecond)
	refusals := ingest.Requests()
	require.Eventually(t, func() bool { return ingest.Requests() >= refusals+8 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, int64(len(sent)), s.ext.spool.Stats().Items, "the refused backlog stays")
	assert.Zero(t, s.logs.FilterMessageSnippet("sent again with the key").Len())
	for _, item := range ingest.Accepted() {
		assert.Equal(t, otherKey, trackprotocol.InstrumentationKey(item))
	}
	s.assertAccounting(t)
}

// The dead-letter folder keeps its bound by deleting its oldest files:
// every dead letter it deletes is counted and logged.
func TestEvictedDeadLettersAreCounted(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.FailItems(func(int, []byte) int { return http.StatusBadRequest })
	cfg := fastRetries(t.TempDir())
	cfg.Spool.DeadLetter.MaxBytes = 4 << 10
	s := startSpooled(t, cfg)
	s.trackRequests(t, ingest.URL, "rejected", 20, 5, 0)
	require.Eventually(t, func() bool {
		return s.counter(t, "appinsights_delivery_items_dead_lettered", reasonRejected) == 100
	}, 10*time.Second, time.Millisecond)
	evicted := s.counter(t, "appinsights_delivery_dead_letters_evicted")
	assert.Positive(t, evicted)
	assert.Equal(t, int64(100), evicted+int64(len(s.deadLetters(t))), "every dead letter is on disk or counted as evicted")
	assert.Positive(t, s.logs.FilterMessageSnippet("The dead-letter folder is full").Len())
	s.assertAccounting(t)
}

// A request whose body cannot be split into items is dead-lettered whole,
// as base64; when even that cannot be written, every one of its items is
// counted as dropped, not one.
func TestADeadLetterThatCannotBeWrittenCountsEveryItem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// An earlier run left a request whose body this version cannot read.
	earlier, _, err := spool.Open(dir, 1<<20)
	require.NoError(t, err)
	_, _, err = earlier.Put("http://127.0.0.1:1/v2.1/track", http.Header{"Content-Encoding": {"gzip"}}, []byte("not gzip"), 3, time.Now())
	require.NoError(t, err)
	require.NoError(t, earlier.Close())

	cfg := fastRetries(dir)
	cfg.Spool.MaxAge = 500 * time.Millisecond
	cfg.Spool.DeadLetter.Directory = filepath.Join(t.TempDir(), "dead")
	s := startSpooled(t, cfg)
	// The dead-letter folder is gone, and a file stands in its place.
	require.NoError(t, os.RemoveAll(cfg.Spool.DeadLetter.Directory))
	require.NoError(t, os.WriteFile(cfg.Spool.DeadLetter.Directory, nil, 0o600))
	require.Eventually(t, func() bool {
		return s.counter(t, "appinsights_delivery_items_dropped", reasonExpired) == 3
	}, 10*time.Second, time.Millisecond)
	assert.Zero(t, s.ext.spool.Stats().Items)
}

// A partly delivered request whose rewrite fails is sent again whole; its
// delivered and rejected items are counted once, and dead-lettered once.
func TestAFailedRewriteCountsEachItemOnce(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	var mu sync.Mutex
	answered := map[int]int{}
	ingest.FailItems(func(index int, _ []byte) int {
		mu.Lock()
		defer mu.Unlock()
		answered[index]++
		switch {
		case index == 1:
			return http.StatusBadRequest // rejected for good, each time
		case index == 2 && answered[index] == 1:
			return http.StatusServiceUnavailable // retryable, once
		}
		return 0
	})
	fs := &spooltest.FaultFS{}
	s := startOnDisk(t, fastRetries(t.TempDir()), fs)
	// The intake's write goes through; the rewrite after the first answer
	// does not.
	fs.OnWrite(func(string) error {
		fs.OnWrite(spooltest.Times(1, errors.New("write spool file: input/output error")))
		return nil
	})
	s.track(t, ingest.URL, ids("part", 3)...)
	require.Eventually(t, func() bool { return s.ext.spool.Stats().Requests == 0 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_delivered"), "part-000 and part-002, each once")
	assert.Equal(t, int64(1), s.counter(t, "appinsights_delivery_items_dead_lettered", reasonRejected))
	assert.Len(t, s.deadLetters(t), 1, "part-001 dead-lettered once")
	assert.Equal(t, 1, s.logs.FilterMessageSnippet("Could not rewrite a partly delivered request").Len())
	s.assertAccounting(t)
}

// A disk that hangs holds the request written to it, never the
// collector's shutdown.
func TestAHungDiskDoesNotHoldShutdown(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	hang := make(chan struct{})
	defer close(hang)
	fs := &spooltest.FaultFS{}
	cfg := fastRetries(t.TempDir())
	cfg.ShutdownTimeout = 500 * time.Millisecond
	s := startOnDisk(t, cfg, fs)
	s.track(t, ingest.URL, ids("before", 2)...)
	entered := make(chan struct{})
	fs.OnWrite(func(string) error { close(entered); <-hang; return nil })
	go func() { _, _ = s.rt.RoundTrip(gzipTrack(t, ingest.URL, ids("stuck", 1)...)) }()
	<-entered
	done := make(chan error, 1)
	go func() { done <- s.ext.Shutdown(context.Background()) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for a hung disk")
	}
}

// The collector's own tracing adds trace-context headers to every track
// request: they belong to the attempt, so the request is spooled, and the
// headers are not sent again with later attempts.
func TestTraceContextHeadersDoNotSendAroundTheSpool(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	s := startSpooled(t, fastRetries(t.TempDir()))
	req := gzipTrack(t, ingest.URL, ids("traced", 2)...)
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("Tracestate", "congo=t61rcWkgMzE")
	req.Header.Set("Baggage", "userId=alice")
	req.Header.Set("X-B3-Traceid", "0af7651916cd43dd8448eb211c80319c")
	resp, err := s.rt.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, int64(2), s.counter(t, "appinsights_delivery_items_spooled"))
	assert.Zero(t, s.counter(t, "appinsights_delivery_items_passed_through"))
	assertOnce(t, waitReceived(t, ingest, ids("traced", 2)), ids("traced", 2))
	s.assertAccounting(t)
}
