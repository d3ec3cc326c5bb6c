// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// What each answer means for a request of three items.
func TestClassify(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		header  http.Header
		err     error
		verdict verdict
		cause   cause
		// wantStatus is the outcome's status when it is not the answer's.
		wantStatus int
		failed     []int
	}{
		{name: "200", status: 200, verdict: verdictDelivered},
		{name: "206 counting every item accepted", status: 206, body: `{"itemsReceived":3,"itemsAccepted":3,"errors":[]}`, verdict: verdictDelivered},
		{name: "206 with a rejected and a retryable item", status: 206,
			body:    `{"itemsReceived":3,"itemsAccepted":1,"errors":[{"index":0,"statusCode":400,"message":"bad field"},{"index":2,"statusCode":503}]}`,
			verdict: verdictItems, failed: []int{0, 2}},
		{name: "206 with every item retryable is a whole failure", status: 206,
			body:    `{"itemsReceived":3,"itemsAccepted":0,"errors":[{"index":0,"statusCode":503},{"index":1,"statusCode":503},{"index":2,"statusCode":503}]}`,
			verdict: verdictRetry, wantStatus: 503},
		{name: "206 with every item retryable, mixed codes", status: 206,
			body:    `{"itemsReceived":3,"itemsAccepted":0,"errors":[{"index":0,"statusCode":503},{"index":1,"statusCode":429},{"index":2,"statusCode":503}]}`,
			verdict: verdictRetry, wantStatus: 206},
		{name: "206 with some accepted and the rest retryable", status: 206,
			body:    `{"itemsReceived":3,"itemsAccepted":2,"errors":[{"index":1,"statusCode":500}]}`,
			verdict: verdictItems, failed: []int{1}},
		{name: "400 refusing every item's key", status: 400,
			body:    `{"itemsReceived":3,"itemsAccepted":0,"errors":[{"index":0,"statusCode":400,"message":"Invalid instrumentation key"},{"index":1,"statusCode":400,"message":"Invalid instrumentation key"},{"index":2,"statusCode":400,"message":"Invalid instrumentation key"}]}`,
			verdict: verdictKeyRefused, failed: []int{0, 1, 2}},
		{name: "400 refusing one item's key settles item by item", status: 400,
			body:    `{"itemsReceived":3,"itemsAccepted":2,"errors":[{"index":1,"statusCode":400,"message":"Invalid instrumentation key"}]}`,
			verdict: verdictItems, failed: []int{1}},
		{name: "400 without item errors", status: 400, body: `bad request`, verdict: verdictRetry, cause: causeUntrusted},
		{name: "206 that contradicts the request", status: 206, body: `{"itemsReceived":2,"itemsAccepted":1,"errors":[{"index":1,"statusCode":400}]}`, verdict: verdictRetry, cause: causeUntrusted},
		{name: "413", status: 413, verdict: verdictSplit},
		{name: "401", status: 401, verdict: verdictRetry},
		{name: "503 with Retry-After", status: 503, header: http.Header{"Retry-After": {"7"}}, verdict: verdictRetry},
		{name: "no answer", err: errors.New("dial tcp: connection refused"), verdict: verdictRetry, cause: causeUnreachable},
		{name: "no token", err: &tokenError{err: errors.New("IMDS unavailable")}, verdict: verdictRetry, cause: causeToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a trackAnswer
			if tc.err == nil {
				h := tc.header
				if h == nil {
					h = http.Header{}
				}
				a = readAnswer(tc.status, h, []byte(tc.body), at)
			}
			o := classify(a, tc.err, 3)
			assert.Equal(t, tc.verdict, o.verdict)
			assert.Equal(t, tc.cause, o.cause)
			want := tc.status
			if tc.wantStatus != 0 {
				want = tc.wantStatus
			}
			assert.Equal(t, want, o.status)
			var failed []int
			for i := range 3 {
				if _, ok := o.failed[i]; ok {
					failed = append(failed, i)
				}
			}
			if o.verdict == verdictItems || o.verdict == verdictKeyRefused {
				assert.Equal(t, tc.failed, failed)
			}
			if tc.header != nil {
				assert.Equal(t, 7*time.Second, o.retryAfter)
			}
		})
	}
}
