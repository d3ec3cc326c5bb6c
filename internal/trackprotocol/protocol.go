// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package trackprotocol is the Application Insights track protocol as the
// Azure Monitor exporter speaks it: a POST to <IngestionEndpoint>/v2.1/track
// whose body is JSON lines, one envelope a line, usually gzip'd; an answer
// that counts the items and lists, item by item, the ones that failed; and
// the status codes that ask the sender to try again. The local ingestion
// endpoint (the server) and the delivery extension (the client) both use it,
// so that the two never disagree on the wire.
package trackprotocol // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Paths are the paths Application Insights takes telemetry on.
var Paths = []string{"/v2.1/track", "/v2/track"}

// MaxBodyBytes bounds a request body, before and after decompression.
const MaxBodyBytes = 64 << 20

// Response is the body Application Insights answers a track request with.
type Response struct {
	ItemsReceived int         `json:"itemsReceived"`
	ItemsAccepted int         `json:"itemsAccepted"`
	Errors        []ItemError `json:"errors"`
}

// ItemError says why the item at Index was not accepted; RetryableItem
// tells whether its StatusCode asks the sender to send it again.
type ItemError struct {
	Index      int    `json:"index"`
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

// Answer is the status and body for a request of received items of which
// the ones in errs failed: 200 when none did, 400 when all did, 206 else.
func Answer(received int, errs []ItemError) (int, Response) {
	if errs == nil {
		errs = []ItemError{}
	}
	resp := Response{ItemsReceived: received, ItemsAccepted: received - len(errs), Errors: errs}
	switch {
	case len(errs) == 0:
		return http.StatusOK, resp
	case len(errs) >= received:
		resp.ItemsAccepted = 0
		return http.StatusBadRequest, resp
	default:
		return http.StatusPartialContent, resp
	}
}

// AcceptedAll is the body of an answer that accepted every one of items.
func AcceptedAll(items int) Response {
	return Response{ItemsReceived: items, ItemsAccepted: items, Errors: []ItemError{}}
}

// RetryableItem reports whether an item that failed with code is worth
// sending again: 408, 429, 439, 500 or 503, the codes Application Insights'
// SDKs retry. Any other item code rejects the item for good.
func RetryableItem(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, 439,
		http.StatusInternalServerError, http.StatusServiceUnavailable:
		return true
	}
	return false
}

// ErrTooLarge is returned for a body over MaxBodyBytes.
var ErrTooLarge = fmt.Errorf("track request over %d bytes", MaxBodyBytes)

// DecodeItems returns the items of a request body as sent with the given
// Content-Encoding (gzip or none: what ApplicationInsights-Go sends), split
// into items. The header alone decides: a plain body is never sniffed.
func DecodeItems(contentEncoding string, body []byte) ([][]byte, error) {
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	payload := body
	switch {
	case strings.EqualFold(contentEncoding, "gzip"):
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gunzip track request: %w", err)
		}
		if payload, err = io.ReadAll(io.LimitReader(zr, MaxBodyBytes+1)); err != nil {
			return nil, fmt.Errorf("gunzip track request: %w", err)
		}
		if len(payload) > MaxBodyBytes {
			return nil, ErrTooLarge
		}
	case contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity"):
		return nil, fmt.Errorf("unsupported Content-Encoding %q", contentEncoding)
	}
	return splitItems(payload), nil
}

// splitItems splits a payload into items: a JSON array of envelopes, or one
// envelope per line (what SDKs send). Blank lines are not items.
func splitItems(payload []byte) [][]byte {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(trimmed, &arr); err == nil {
			items := make([][]byte, len(arr))
			for i, a := range arr {
				items[i] = a
			}
			return items
		}
	}
	var items [][]byte
	for line := range bytes.SplitSeq(payload, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 {
			items = append(items, line)
		}
	}
	return items
}

// EncodeItems is the body of a track request that sends items, one a line,
// gzip'd when contentEncoding is gzip.
func EncodeItems(contentEncoding string, items [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if strings.EqualFold(contentEncoding, "gzip") {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	for _, item := range items {
		_, _ = w.Write(item)
		_, _ = w.Write([]byte{'\n'})
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// ReadBody reads a request or answer body, at most MaxBodyBytes of it.
func ReadBody(body io.Reader) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read track request: %w", err)
	}
	if len(raw) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	return raw, nil
}

// IsTrackRequest reports whether req is a track request.
func IsTrackRequest(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/track")
}

// NoItems is ingestion's answer to a request without items.
func NoItems() (int, Response) {
	return http.StatusBadRequest, Response{Errors: []ItemError{{Index: 0, StatusCode: http.StatusBadRequest, Message: "no telemetry items in the request"}}}
}
