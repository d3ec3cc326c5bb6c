// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package trackprotocol

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeItems(t *testing.T) {
	t.Parallel()
	lines := "{\"a\":1}\n\n  \n{\"b\":2}\n"
	want := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}
	for _, tc := range []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"plain lines", "", []byte(lines)},
		{"gzip'd lines", "gzip", gzipped(t, lines)},
		{"JSON array", "", []byte(`[{"a":1},{"b":2}]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeItems(tc.encoding, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestDecodeItemsRefuses(t *testing.T) {
	t.Parallel()
	if _, err := DecodeItems("br", []byte("x")); err == nil || err.Error() != `unsupported Content-Encoding "br"` {
		t.Errorf("brotli: %v", err)
	}
	if _, err := DecodeItems("gzip", []byte("not gzip")); err == nil {
		t.Error("a body that is not gzip was read as gzip")
	}
	// A gzip bomb stops at MaxBodyBytes of output.
	bomb := gzipped(t, string(make([]byte, MaxBodyBytes+1)))
	if _, err := DecodeItems("gzip", bomb); !errors.Is(err, ErrTooLarge) {
		t.Errorf("gzip bomb: %v", err)
	}
}

func TestEncodeItemsRoundTrips(t *testing.T) {
	t.Parallel()
	items := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)}
	for _, enc := range []string{"", "gzip"} {
		body, err := EncodeItems(enc, items)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeItems(enc, body)
		if err != nil || !reflect.DeepEqual(got, items) {
			t.Errorf("%q: got %q, %v", enc, got, err)
		}
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	status, resp := Answer(3, nil)
	if status != http.StatusOK || !reflect.DeepEqual(resp, Response{ItemsReceived: 3, ItemsAccepted: 3, Errors: []ItemError{}}) {
		t.Errorf("all accepted: %d %+v", status, resp)
	}
	failed := []ItemError{{Index: 1, StatusCode: 400, Message: "bad"}}
	status, resp = Answer(3, failed)
	if status != http.StatusPartialContent || !reflect.DeepEqual(resp, Response{ItemsReceived: 3, ItemsAccepted: 2, Errors: failed}) {
		t.Errorf("one failed: %d %+v", status, resp)
	}
	status, resp = Answer(1, failed[:1])
	if status != http.StatusBadRequest || resp.ItemsAccepted != 0 {
		t.Errorf("all failed: %d %+v", status, resp)
	}
}

func TestRetryableItem(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{
		200: false, 400: false, 401: false, 403: false, 502: false, 504: false,
		408: true, 429: true, 439: true, 500: true, 503: true,
	} {
		if got := RetryableItem(code); got != want {
			t.Errorf("%d: got %v, want %v", code, got, want)
		}
	}
}

func TestActivityWaitsForQuiet(t *testing.T) {
	t.Parallel()
	a := NewActivity()
	a.Start()
	go func() {
		time.Sleep(100 * time.Millisecond)
		a.Done()
	}()
	begin := time.Now()
	if n := a.WaitQuiet(context.Background(), 50*time.Millisecond); n != 0 {
		t.Fatalf("%d still in flight", n)
	}
	// The request ran 100 ms, then the quiet period of 50 ms passed.
	if waited := time.Since(begin); waited < 100*time.Millisecond {
		t.Errorf("returned after %v, while a request was in flight", waited)
	}

	a.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if n := a.WaitQuiet(ctx, 10*time.Millisecond); n != 1 {
		t.Errorf("a request never done: got %d in flight, want 1", n)
	}
}

// Whatever a track request's body holds, decoding its items and encoding
// them back neither panics nor loses an item.
func FuzzDecodeItems(f *testing.F) {
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
		lines, err := DecodeItems(encoding, body)
		if err != nil {
			t.Fatalf("valid %q body: %v", encoding, err)
		}
		again, err := EncodeItems(encoding, lines)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeItems(encoding, again)
		if err != nil || len(back) != len(lines) {
			t.Fatalf("round trip: %d lines, then %d (%v)", len(lines), len(back), err)
		}
		// Bodies that claim gzip and are not: an error, never a panic.
		_, _ = DecodeItems("gzip", payload)
	})
}

// DecodeItemsAtMost stops at its bound as the body streams: lines, blank
// ones too, and a JSON array's items.
func TestDecodeItemsAtMost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		encoding string
		body     []byte
		max      int
		items    int // -1: refused as too many
	}{
		{"lines at the bound", "", []byte("{}\n{}\n{}\n"), 3, 3},
		{"lines past the bound", "", []byte("{}\n{}\n{}\n{}"), 3, -1},
		{"blank lines count", "gzip", gzipped(t, "{}\n\n\n\n"), 3, -1},
		{"a trailing newline is no line", "", []byte("{}\n{}\n"), 2, 2},
		{"array at the bound", "", []byte(`[{},{},{}]`), 3, 3},
		{"array past the bound", "", []byte(`[{},{},{},{}]`), 3, -1},
		{"no bound", "", []byte("{}\n{}\n{}\n{}"), -1, 4},
		{"a line longer than the buffer", "", append(bytes.Repeat([]byte("x"), 200<<10), "\n{}"...), 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeItemsAtMost(tc.encoding, tc.body, tc.max)
			var tooMany *TooManyItemsError
			if tc.items < 0 {
				if !errors.As(err, &tooMany) || tooMany.Max != tc.max {
					t.Fatalf("want too many items, got %d items, %v", len(got), err)
				}
				return
			}
			if err != nil || len(got) != tc.items {
				t.Fatalf("got %d items, %v; want %d", len(got), err, tc.items)
			}
		})
	}
	// 64 MiB of newlines, the most the size bound admits, ends at the
	// bound's first lines.
	got, err := DecodeItemsAtMost("gzip", gzipped(t, strings.Repeat("\n", MaxBodyBytes)), 10_000)
	var tooMany *TooManyItemsError
	if !errors.As(err, &tooMany) {
		t.Fatalf("got %d items, %v", len(got), err)
	}
}

// What it costs to refuse a body of millions of one-byte lines, and to
// read an ordinary request: `go test -bench Decode ./internal/trackprotocol`.
func BenchmarkDecodeItems(b *testing.B) {
	ordinary := gzipped(b, strings.Repeat(`{"name":"Microsoft.ApplicationInsights.Message","data":{"baseData":{"message":"a line of a pipeline step"}}}`+"\n", 1000))
	lines := gzipped(b, strings.Repeat("x\n", 4<<20))
	b.Run("1000 envelopes", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeItemsAtMost("gzip", ordinary, 10_000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("4 Mi one-byte lines, refused", func(b *testing.B) {
		for b.Loop() {
			_, _ = DecodeItemsAtMost("gzip", lines, 10_000)
		}
	})
}
