// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// intake answers the exporter's track requests from the spool: it writes
// each to disk, and once it is durable tells the exporter that ingestion
// accepted every item, so that ApplicationInsights-Go keeps nothing in
// memory for retry. The deliverer takes it from there.
type intake struct {
	ext  *deliveryExtension
	next *passThrough // what intake does when it cannot spool

	warnHeaders sync.Once
}

func (in *intake) RoundTrip(req *http.Request) (*http.Response, error) {
	e := in.ext
	if !trackprotocol.IsTrackRequest(req) {
		return in.next.RoundTrip(req)
	}
	body, err := drainBody(req)
	if err != nil {
		return nil, err
	}
	items, decodeErr := trackprotocol.DecodeItems(req.Header.Get("Content-Encoding"), body)
	n := len(items)
	if decodeErr != nil {
		n = 1 // its items cannot be counted: it counts as one
	}
	if n == 0 {
		// Nothing to keep: let ingestion answer it.
		return in.next.RoundTrip(withBody(req, body))
	}
	ctx := req.Context()
	e.ledger.received(ctx, n)
	unspooled := unspooledHeaders(req.Header)
	switch {
	case e.intakeClosed.Load():
		// Later than the shutdown's quiet period: ApplicationInsights-Go
		// still gets its own retries.
		e.logger.Warn("A track request arrived after shutdown began; sending it on without the spool", zap.Int("items", n))
		return in.sendAround(req, body, n, reasonShutdown)
	case len(unspooled) > 0:
		// The exporter's auth: or headers: set these; written to disk they
		// would be secrets at rest, and a token stale when sent again.
		in.warnHeaders.Do(func() {
			e.logger.Warn("Track requests carry headers the spool does not write (the exporter's auth: or headers:); they are sent on without the spool. Use appinsights_delivery's entra_id to sign spooled requests",
				zap.Strings("headers", unspooled))
		})
		return in.sendAround(req, body, n, reasonHeaders)
	case decodeErr != nil:
		e.logger.Error("Could not read a track request; sending it on without the spool", zap.Error(decodeErr))
		return in.sendAround(req, body, n, reasonUnreadable)
	}
	_, evicted, err := e.spool.Put(req.URL.String(), spooledHeaders(req.Header), body, n, time.Now())
	if evictedItems := itemsOf(evicted); evictedItems > 0 {
		e.ledger.dropped(ctx, evictedItems, reasonSpoolFull)
		e.logger.Error("The spool is full: dropped its oldest telemetry to take new telemetry",
			zap.Int("items", evictedItems), zap.Int64("max_bytes", e.cfg.Spool.MaxBytes))
	}
	if err != nil {
		reason, msg := reasonWriteFailed, "Could not write a track request to the spool; sending it on without the spool"
		if errors.Is(err, spool.ErrTooLarge) || errors.Is(err, spool.ErrHeaderTooLarge) {
			reason, msg = reasonTooLarge, "A track request does not fit the spool; sending it on without the spool"
		}
		e.logger.Error(msg, zap.Error(err))
		return in.sendAround(req, body, n, reason)
	}
	e.ledger.spooled(ctx, n)
	if e.cfg.Spool.RekeyRefused {
		// A request's items share their exporter's key.
		e.deliverer.keys.observe(trackprotocol.InstrumentationKey(items[0]))
	}
	return acceptedAll(req, n), nil
}

// sendAround sends a request on without the spool, and counts it as
// passed through.
func (in *intake) sendAround(req *http.Request, body []byte, items int, reason string) (*http.Response, error) {
	in.ext.ledger.passedThrough(req.Context(), items, reason)
	return in.next.RoundTrip(withBody(req, body))
}

// spooledHeaders is the allow-list of headers the spool writes with a
// request, to send again with it: what ApplicationInsights-Go sets, none a
// secret.
var spoolHeaderAllowList = []string{"Content-Type", "Content-Encoding", "User-Agent"}

// attemptHeaders belong to one attempt, not to the request: the
// transport computes them again (Content-Length, ...), or they carry the
// trace context of the exporter's span, which the collector's own tracing
// adds to every request (traceparent and the other propagators' headers)
// and which an attempt days later is no part of. The spool drops them,
// and they never decide whether a request is spooled.
var attemptHeaders = []string{
	"Accept-Encoding", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade",
	"Traceparent", "Tracestate", "Baggage", "B3", "Uber-Trace-Id", "X-Amzn-Trace-Id",
}

// attemptHeaderPrefixes are the trace-context headers that come in
// families: b3 multi, Jaeger's baggage, OpenTracing's.
var attemptHeaderPrefixes = []string{"X-B3-", "Uberctx-", "Ot-Tracer-", "Ot-Baggage-"}

func isAttemptHeader(k string) bool {
	if slices.Contains(attemptHeaders, k) {
		return true
	}
	for _, p := range attemptHeaderPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// spooledHeaders are the request's headers the spool keeps.
func spooledHeaders(h http.Header) http.Header {
	out := make(http.Header, len(spoolHeaderAllowList))
	for _, k := range spoolHeaderAllowList {
		if v := h.Values(k); len(v) > 0 {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// unspooledHeaders names the request's headers the spool would not keep
// and the transport would not make again: whatever the exporter's auth:
// or headers: added. Names only, never values.
func unspooledHeaders(h http.Header) []string {
	var names []string
	for k := range h {
		if !slices.Contains(spoolHeaderAllowList, k) && !isAttemptHeader(http.CanonicalHeaderKey(k)) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// drainBody reads and closes the request's body, which the request then
// no longer has: withBody gives it back.
func drainBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	defer req.Body.Close()
	return trackprotocol.ReadBody(req.Body)
}

func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	return r
}

func itemsOf(batches []*spool.Batch) int {
	n := 0
	for _, b := range batches {
		n += b.Unsettled()
	}
	return n
}

// acceptedAll is ingestion's answer that every item was accepted, which
// ApplicationInsights-Go counts as delivered.
func acceptedAll(req *http.Request, items int) *http.Response {
	body, _ := json.Marshal(trackprotocol.AcceptedAll(items))
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
