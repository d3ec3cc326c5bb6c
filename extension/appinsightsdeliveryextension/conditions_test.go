// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"
)

// Delivery under the conditions of a real network: answers that mean
// "not you", "not here" or "not now", a request ingestion keeps refusing,
// one too large, and slow round trips.

// 401, 403 and 404 say nothing about the telemetry: a key rotated, local
// authentication turned off, a proxy in the way. The spool keeps every
// request and delivers it once ingestion takes it again.
func TestAuthLikeAnswersNeverDrainTheSpool(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			ingest := tracktest.New(t)
			ingest.Inject(tracktest.Fault{Status: status, Requests: 30})
			s := startSpooled(t, fastRetries(t.TempDir()))
			sent := s.trackRequests(t, ingest.URL, "auth", 10, 3, 0)
			assertOnce(t, waitReceived(t, ingest, sent), sent)
			assert.Zero(t, s.counter(t, "appinsights_delivery_items_dead_lettered"))
			assert.Zero(t, s.counter(t, "appinsights_delivery_items_dropped"))
			warnings := s.logs.FilterMessageSnippet("Could not deliver to Application Insights").All()
			require.Len(t, warnings, 1, "one line per episode")
			assert.Equal(t, int64(status), warnings[0].ContextMap()["status"])
			assert.NotEmpty(t, warnings[0].ContextMap()["what_to_do"])
			s.assertAccounting(t)
		})
	}
}

// A request ingestion keeps refusing does not hold back the ones behind
// it, and after max_attempts failures while they are delivered it moves to
// the dead letters.
func TestPoisonedRequestGoesToTheDeadLetters(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.FailRequests(func(items [][]byte) int {
		for _, item := range items {
			if bytes.Contains(item, []byte("poison")) {
				return http.StatusServiceUnavailable
			}
		}
		return 0
	})
	cfg := fastRetries(t.TempDir())
	cfg.Spool.MaxAttempts = 3
	s := startSpooled(t, cfg)
	s.track(t, ingest.URL, ids("poison", 2)...)
	// Requests keep coming, as telemetry does: the poisoned one's
	// failures count while they are delivered.
	sent := s.trackRequests(t, ingest.URL, "after", 20, 5, 30*time.Millisecond)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	letters := s.waitDeadLettered(t, reasonRetriesExhausted, 2)
	assert.Equal(t, http.StatusServiceUnavailable, letters[0].Status)
	assert.Equal(t, "poison-000", message(t, letters[0].Item))
	assert.Equal(t, 0, s.spoolFiles(t))
	s.assertAccounting(t)
}

// A 413 splits the request in halves until ingestion takes them; a single
// item still too large goes to the dead letters.
func TestTooLargeRequestsAreSplit(t *testing.T) {
	t.Parallel()
	ingest := tracktest.New(t)
	ingest.FailRequests(func(items [][]byte) int {
		if len(items) > 2 {
			return http.StatusRequestEntityTooLarge
		}
		for _, item := range items {
			if bytes.Contains(item, []byte("huge")) {
				return http.StatusRequestEntityTooLarge
			}
		}
		return 0
	})
	s := startSpooled(t, fastRetries(t.TempDir()))
	sent := ids("split", 7)
	s.track(t, ingest.URL, append([]string{"huge-000"}, sent...)...)
	assertOnce(t, waitReceived(t, ingest, sent), sent)
	letters := s.waitDeadLettered(t, reasonTooLarge, 1)
	assert.Equal(t, "huge-000", message(t, letters[0].Item))
	assert.Equal(t, http.StatusRequestEntityTooLarge, letters[0].Status)
	assert.Equal(t, 0, s.spoolFiles(t))
	s.assertAccounting(t)
}

// Several requests are under way at once, up to num_consumers and no
// more: ingestion holds every request until four are in flight.
func TestRequestsAreDeliveredInParallel(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var held atomic.Int32
	ingest := tracktest.New(t, tracktest.WithHandler(func(tracktest.FailItemFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			held.Add(1)
			<-release
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		})
	}))
	cfg := fastRetries(t.TempDir())
	cfg.Spool.NumConsumers = 4
	s := startSpooled(t, cfg)
	s.trackRequests(t, ingest.URL, "par", 20, 2, 0)
	require.Eventually(t, func() bool { return held.Load() == 4 }, 10*time.Second, time.Millisecond, "num_consumers requests at once")
	close(release)
	require.Eventually(t, func() bool { return s.ext.spool.Stats().Items == 0 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, 4, ingest.MaxInFlight(), "never more than num_consumers")
	assert.Equal(t, int32(20), held.Load())
}

// An answer that contradicts the request (counts that do not add up, an
// index out of range or named twice) is not trusted item by item: the
// whole request is sent again, duplicates rather than losses.
func TestContradictoryAnswersResendTheWholeRequest(t *testing.T) {
	for name, body := range map[string]string{
		"received too few":    `{"itemsReceived":1,"itemsAccepted":0,"errors":[{"index":0,"statusCode":400}]}`,
		"index out of range":  `{"itemsReceived":2,"itemsAccepted":1,"errors":[{"index":5,"statusCode":400}]}`,
		"index named twice":   `{"itemsReceived":2,"itemsAccepted":0,"errors":[{"index":0,"statusCode":400},{"index":0,"statusCode":400}]}`,
		"accepted all of 206": `{"itemsReceived":3,"itemsAccepted":3,"errors":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			a := readAnswer(http.StatusPartialContent, http.Header{}, []byte(body), time.Now())
			_, ok := a.itemErrorsOf(2)
			assert.False(t, ok)
			assert.False(t, a.allAcceptedOf(2))
		})
	}
	a := readAnswer(http.StatusPartialContent, http.Header{}, []byte(`{"itemsReceived":2,"itemsAccepted":1,"errors":[{"index":1,"statusCode":503}]}`), time.Now())
	failed, ok := a.itemErrorsOf(2)
	require.True(t, ok)
	assert.Equal(t, 503, failed[1].StatusCode)
}

// trackRequests sends n requests of size items each, ids prefix<i>-<j>,
// pause apart, and returns every id sent.
func (s *spooled) trackRequests(t *testing.T, url, prefix string, n, size int, pause time.Duration) []string {
	t.Helper()
	var sent []string
	for i := range n {
		batch := ids(fmt.Sprintf("%s%d", prefix, i), size)
		sent = append(sent, batch...)
		s.track(t, url, batch...)
		time.Sleep(pause)
	}
	return sent
}

// waitDeadLettered waits until n items are counted as dead-lettered for
// reason, and returns the dead-letter records, which must be n.
func (s *spooled) waitDeadLettered(t *testing.T, reason string, n int64) []deadletter.Record {
	t.Helper()
	require.Eventually(t, func() bool {
		return s.counter(t, "appinsights_delivery_items_dead_lettered", reason) == n
	}, 10*time.Second, 10*time.Millisecond)
	letters := s.deadLetters(t)
	require.Len(t, letters, int(n))
	return letters
}
