// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"net/http"
	"testing"
	"time"
)

// Whatever ingestion answers, reading it neither panics nor asks to wait
// a negative time.
func FuzzReadAnswer(f *testing.F) {
	f.Add(206, []byte(`{"itemsReceived":3,"itemsAccepted":1,"errors":[{"index":-1,"statusCode":503},{"index":99,"statusCode":400}]}`), "7")
	f.Add(429, []byte(``), "Fri, 27 Nov 2026 12:00:00 GMT")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		a := readAnswer(status, h, body, time.Now())
		if a.retryAfter < 0 {
			t.Fatalf("negative Retry-After %s from %q", a.retryAfter, retryAfter)
		}
		_ = a.allAccepted()
		if a.hasItemErrors() {
			s := summarizeItems(a.body.Errors)
			if s.retry+s.rejected != len(a.body.Errors) {
				t.Fatalf("summary lost errors: %+v", s)
			}
			_ = s.fields()
		}
	})
}
