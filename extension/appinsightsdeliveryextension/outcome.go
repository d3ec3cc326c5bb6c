// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds what an attempt's result means for the request, as a
// pure function of the answer (or the error) and the request's item
// count: no I/O, no state, table-tested in outcome_test.go.

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// verdict is what to do with a request after an attempt.
type verdict int

const (
	// verdictDelivered: ingestion took every item; remove the request.
	verdictDelivered verdict = iota
	// verdictItems: the answer names each failed item, and ingestion took
	// at least one item or refused one for good: settle item by item.
	verdictItems
	// verdictSplit: 413, too large whole; send it again in halves.
	verdictSplit
	// verdictRetry: the request failed whole, or the answer cannot be
	// trusted item by item; it stays and is sent again after its backoff.
	verdictRetry
	// verdictKeyRefused: ingestion refused every item for its
	// instrumentation key. The telemetry is fine and the connection string
	// is not: the request stays, like in an outage, and is never
	// dead-lettered for it.
	verdictKeyRefused
)

// cause says why a request failed whole, for the operator's hint.
type cause int

const (
	causeStatus      cause = iota // ingestion answered with a failure
	causeUnreachable              // no answer: network, DNS, proxy, TLS
	causeToken                    // no Entra ID token could be had
	causeUntrusted                // an answer that does not say which items failed
)

type outcome struct {
	verdict verdict
	// status is ingestion's answer, 0 when there was none; for a 206 or
	// 400 whose items all failed alike, the items' status.
	status     int
	retryAfter time.Duration
	// failed are the failed items by index (verdictItems).
	failed map[int]trackprotocol.ItemError
	cause  cause
	err    error // the send's error (causeUnreachable, causeToken)
}

// classify says what an attempt of a request of items means: err is the
// send's error, a its answer when err is nil.
func classify(a trackAnswer, err error, items int) outcome {
	if err != nil {
		var tokenErr *tokenError
		if errors.As(err, &tokenErr) {
			return outcome{verdict: verdictRetry, cause: causeToken, err: err}
		}
		return outcome{verdict: verdictRetry, cause: causeUnreachable, err: err}
	}
	o := outcome{status: a.status, retryAfter: a.retryAfter}
	switch {
	case a.allAcceptedOf(items):
		o.verdict = verdictDelivered
	case a.status == http.StatusPartialContent || a.status == http.StatusBadRequest:
		failed, ok := a.itemErrorsOf(items)
		if !ok {
			// Duplicates rather than losses: send all of it again.
			o.verdict, o.cause = verdictRetry, causeUntrusted
			return o
		}
		o.failed = failed
		switch {
		case refusesTheKey(failed, items):
			o.verdict = verdictKeyRefused
		case a.body.ItemsAccepted == 0 && allRetryable(failed):
			// Nothing was taken and nothing refused: for the outage
			// breaker and max_attempts, a whole failure like a 503.
			o.verdict, o.status = verdictRetry, commonStatus(failed)
		default:
			o.verdict = verdictItems
		}
	case a.status == http.StatusRequestEntityTooLarge:
		o.verdict = verdictSplit
	default:
		// 401, 403 and 404 mean "not you" or "not here" (a key or a
		// resource changed, a proxy in the way); 408, 429, 439 and 5xx
		// mean "not now". None says the telemetry is bad: it stays.
		o.verdict = verdictRetry
	}
	return o
}

// refusesTheKey reports whether every item was refused for its
// instrumentation key: the answer ingestion gives a connection string
// with a wrong or deleted key.
func refusesTheKey(failed map[int]trackprotocol.ItemError, items int) bool {
	if len(failed) != items {
		return false
	}
	for _, e := range failed {
		if e.StatusCode != http.StatusBadRequest || !strings.Contains(strings.ToLower(e.Message), "instrumentation key") {
			return false
		}
	}
	return true
}

func allRetryable(failed map[int]trackprotocol.ItemError) bool {
	for _, e := range failed {
		if !trackprotocol.RetryableItem(e.StatusCode) {
			return false
		}
	}
	return true
}

// commonStatus is the items' status when they share one, else 206.
func commonStatus(failed map[int]trackprotocol.ItemError) int {
	status := 0
	for _, e := range failed {
		if status != 0 && e.StatusCode != status {
			return http.StatusPartialContent
		}
		status = e.StatusCode
	}
	return status
}
