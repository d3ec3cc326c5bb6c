// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestion

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// A web page the user has open can reach 127.0.0.1: a browser's simple
// cross-site POST (text/plain, a form) is refused, and nothing is stored.
func TestRefusesWhatABrowserCanSendCrossSite(t *testing.T) {
	t.Parallel()
	h, store := newTestHandler(t)
	for _, contentType := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		req := httptest.NewRequest(http.MethodPost, "/v2.1/track", strings.NewReader(message(testKey, "from a web page")))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code, contentType)
	}
	envs, err := ReadEnvelopes(store.Path())
	require.NoError(t, err)
	assert.Empty(t, envs)
}

func TestRefusesTooManyItems(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t)
	status, resp := post(t, h, "/v2.1/track", bytes.Repeat([]byte("{}\n"), MaxItems+1), true)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Len(t, resp.Errors, 1)
	assert.Equal(t, "more than 10000 items in one request", resp.Errors[0].Message)
	status, _ = post(t, h, "/v2.1/track", bytes.Repeat([]byte("{}\n"), MaxItems), true)
	assert.NotEqual(t, http.StatusRequestEntityTooLarge, status, "MaxItems items are taken")
}

func TestRejectsInvalidUTF8PerItem(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t)
	bad := strings.Replace(message(testKey, "ok"), "ok", "\xff\xfe", 1)
	status, resp := post(t, h, "/v2.1/track", []byte(message(testKey, "good")+"\n"+bad), false)
	assert.Equal(t, http.StatusPartialContent, status)
	assert.Equal(t, []trackprotocol.ItemError{{Index: 1, StatusCode: 400, Message: "invalid UTF-8"}}, resp.Errors)
}

func TestStoreIsPrivateAndRepairsATornLine(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "appinsights")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, EnvelopesFile)
	whole := message(testKey, "whole") + "\n"
	require.NoError(t, os.WriteFile(path, []byte(whole+`{"name":"Microsoft.Applicat`), 0o644))

	store, err := OpenStore(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, whole, string(data), "the torn last line is cut")
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		info, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, want, info.Mode().Perm(), p)
	}
	require.NoError(t, store.Append([][]byte{[]byte(message(testKey, "next"))}))
	envs, err := ReadEnvelopes(path)
	require.NoError(t, err)
	require.Len(t, envs, 2)
}

// Whatever a request holds, the handler answers without panicking, and its
// answer stays small: at most MaxItems errors of at most maxMessage bytes.
// (An 8 KiB gzip body of bad lines once built a 1.1 GiB answer.)
func FuzzHandler(f *testing.F) {
	f.Add([]byte(message(testKey, "a")+"\n"+message("wrong", "b")), false)
	f.Add(bytes.Repeat([]byte("x\n"), 1000), true)
	f.Add([]byte(`[{"name":1},{}]`), false)
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		h := NewHandler(Options{InstrumentationKey: testKey})
		if gzipped {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(body)
			_ = zw.Close()
			body = buf.Bytes()
		}
		req := httptest.NewRequest(http.MethodPost, "/v2.1/track", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-json-stream")
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var resp trackprotocol.Response
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
		require.LessOrEqual(t, len(resp.Errors), MaxItems)
		// Each error: its message and about 60 bytes of JSON around it.
		require.LessOrEqual(t, rec.Body.Len(), 200+MaxItems*(maxMessage*6+60))
	})
}

// The 8 KiB gzip body of 4 Mi one-byte lines that once built a 1.1 GiB
// answer, and then still split and counted every line before it refused
// (430 MiB of growth): it stops at the item limit as the body streams.
// Not parallel: it measures what this one request allocates.
func TestGzipOfBadLinesGetsASmallAnswer(t *testing.T) {
	h, _ := newTestHandler(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for range 4 << 20 {
		_, _ = zw.Write([]byte("x\n"))
	}
	require.NoError(t, zw.Close())
	require.Less(t, buf.Len(), 64<<10)
	req := httptest.NewRequest(http.MethodPost, "/v2.1/track", &buf)
	req.Header.Set("Content-Type", "application/x-json-stream")
	req.Header.Set("Content-Encoding", "gzip")
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Less(t, rec.Body.Len(), 1<<10)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "bytes allocated to refuse it")
}
