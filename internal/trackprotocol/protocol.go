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
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// Paths are the paths Application Insights takes telemetry on.
var Paths = []string{"/v2.1/track", "/v2/track"}

// IsTrackPath reports whether a request's path is one of Paths, as
// senders write it: after an IngestionEndpoint with a trailing slash,
// OpenCensus' AzureLogHandler posts to "//v2.1/track", which the service
// takes (and Go's ServeMux would redirect).
func IsTrackPath(path string) bool {
	for strings.HasPrefix(path, "//") {
		path = path[1:]
	}
	return slices.Contains(Paths, path)
}

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

// TooManyItemsError is returned by DecodeItemsAtMost for a body of more
// items (or lines, blank ones included) than its bound.
type TooManyItemsError struct{ Max int }

func (e *TooManyItemsError) Error() string {
	return fmt.Sprintf("more than %d items in one request", e.Max)
}

// DecodeItems returns the items of a request body as sent with the given
// Content-Encoding (gzip or none: what ApplicationInsights-Go sends), split
// into items. The header alone decides: a plain body is never sniffed.
func DecodeItems(contentEncoding string, body []byte) ([][]byte, error) {
	return DecodeItemsAtMost(contentEncoding, body, -1)
}

// DecodeItemsAtMost is DecodeItems for a reader that takes at most
// maxItems items (no bound when negative): it stops as soon as the body,
// decompressed as it streams, holds one more, with a *TooManyItemsError.
// A body of millions of tiny lines is refused at its first few thousand,
// without ever holding all of them.
func DecodeItemsAtMost(contentEncoding string, body []byte, maxItems int) ([][]byte, error) {
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	var payload io.Reader = bytes.NewReader(body)
	switch {
	case strings.EqualFold(contentEncoding, "gzip"):
		zr, err := gzip.NewReader(payload)
		if err != nil {
			return nil, fmt.Errorf("gunzip track request: %w", err)
		}
		payload = &boundedReader{r: zr, left: MaxBodyBytes}
	case contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity"):
		return nil, fmt.Errorf("unsupported Content-Encoding %q", contentEncoding)
	}
	items, err := splitItems(bufio.NewReaderSize(payload, 64<<10), maxItems)
	if err != nil && !errors.Is(err, ErrTooLarge) && !errors.As(err, new(*TooManyItemsError)) && contentEncoding != "" {
		err = fmt.Errorf("gunzip track request: %w", err)
	}
	return items, err
}

// boundedReader fails with ErrTooLarge past its bound: a gzip bomb stops
// at MaxBodyBytes decompressed.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the bound from a larger one.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// splitItems splits a payload into items: a JSON array of envelopes, or one
// envelope per line (what SDKs send). Blank lines are not items.
func splitItems(r *bufio.Reader, maxItems int) ([][]byte, error) {
	if startsArray(r) {
		return splitArray(r, maxItems)
	}
	return splitLines(r, nil, maxItems)
}

// startsArray reports whether the payload's first byte that is not white
// space, within the reader's buffer, opens a JSON array. It reads nothing:
// white space before the first line counts towards the lines' bound.
func startsArray(r *bufio.Reader) bool {
	head, _ := r.Peek(r.Size())
	for _, b := range head {
		if !unicode.IsSpace(rune(b)) {
			return b == '['
		}
	}
	return false
}

// splitArray reads a JSON array of items. A payload that starts like one
// but is not one is split into lines after all, as it always was.
func splitArray(r *bufio.Reader, maxItems int) ([][]byte, error) {
	payload, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	var items [][]byte
	tooMany := false
	ok := func() bool {
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return false
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return false
			}
			if maxItems >= 0 && len(items) == maxItems {
				tooMany = true
				return true
			}
			items = append(items, raw)
		}
		t, err := dec.Token()
		return err == nil && t == json.Delim(']') && !moreThanSpace(dec)
	}()
	switch {
	case ok && tooMany:
		return nil, &TooManyItemsError{Max: maxItems}
	case ok:
		return items, nil
	}
	return splitLines(bufio.NewReader(bytes.NewReader(payload)), nil, maxItems)
}

func moreThanSpace(dec *json.Decoder) bool {
	rest, _ := io.ReadAll(dec.Buffered())
	return len(bytes.TrimSpace(rest)) > 0
}

// splitLines reads one item a line, copying each out of the reader's
// buffer; blank lines are skipped without a copy, but count towards
// maxItems: a body of nothing but newlines ends at the bound too.
func splitLines(r *bufio.Reader, items [][]byte, maxItems int) ([][]byte, error) {
	var long []byte // a line longer than the reader's buffer, so far
	lines := 0
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		line := chunk
		if long != nil {
			line, long = append(long, chunk...), nil
		}
		if len(line) > 0 {
			if lines++; maxItems >= 0 && lines > maxItems {
				return nil, &TooManyItemsError{Max: maxItems}
			}
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if len(bytes.TrimSpace(line)) > 0 {
			items = append(items, bytes.Clone(line))
		}
		if err == io.EOF {
			return items, nil
		}
	}
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
