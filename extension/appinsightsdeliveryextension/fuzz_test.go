// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"testing"
	"time"
)

// Whatever a track request's body holds, reading its lines and writing
// them back neither panics nor loses a line.
func FuzzEnvelopeLines(f *testing.F) {
	f.Add(false, []byte("{\"a\":1}\n{\"b\":2}\n"))
	f.Add(true, []byte("{}\n\n  \n{}"))
	f.Add(false, []byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, gzipped bool, payload []byte) {
		encoding, body := "", payload
		if gzipped {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(payload)
			_ = zw.Close()
			encoding, body = "gzip", buf.Bytes()
		}
		lines, err := envelopeLines(encoding, body)
		if err != nil {
			t.Fatalf("valid %q body: %v", encoding, err)
		}
		again, err := encodeLines(encoding, lines)
		if err != nil {
			t.Fatal(err)
		}
		back, err := envelopeLines(encoding, again)
		if err != nil || len(back) != len(lines) {
			t.Fatalf("round trip: %d lines, then %d (%v)", len(lines), len(back), err)
		}
		// Bodies that claim gzip and are not: an error, never a panic.
		_, _ = envelopeLines("gzip", payload)
	})
}

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
