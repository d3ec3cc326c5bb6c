// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool

import (
	"net/http"
	"testing"
	"time"
)

// Whatever a file holds, decoding it neither panics nor returns a request
// that is not the one a header describes.
func FuzzDecodeFile(f *testing.F) {
	body := []byte("line one\nline two")
	h, err := encodeHeader("http://ingest/v2.1/track", http.Header{"Content-Encoding": {"gzip"}}, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), 2, body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(h, body...))
	f.Add(h)
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"v":2,"url":"x","items":-1,"length":0}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr, req, err := decodeFile(data)
		if err != nil {
			return
		}
		if len(req.Body) != hdr.Length || hdr.Items < 0 || req.URL == "" {
			t.Fatalf("accepted a file that contradicts its header: %+v", hdr)
		}
	})
}
