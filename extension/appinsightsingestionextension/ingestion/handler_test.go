// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestion

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

const testKey = "11111111-2222-3333-4444-555555555555"

func message(ikey, text string) string {
	return `{"ver":1,"name":"Microsoft.ApplicationInsights.Message","time":"2026-11-27T10:00:00.123456789Z","iKey":"` + ikey +
		`","tags":{"ai.operation.id":""},"data":{"baseType":"MessageData","baseData":{"ver":2,"message":"` + text +
		`","severityLevel":3,"properties":{"parent_run_id":"run-1","Level":"ERROR"}}}}`
}

func post(t *testing.T, h http.Handler, path string, body []byte, gzipped bool) (int, trackprotocol.Response) {
	t.Helper()
	if gzipped {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		require.NoError(t, zw.Close())
		body = buf.Bytes()
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-json-stream")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp trackprotocol.Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp), rec.Body.String())
	return rec.Code, resp
}

func newTestHandler(t *testing.T) (*Handler, *Store) {
	t.Helper()
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return NewHandler(Options{InstrumentationKey: testKey, Store: store}), store
}

func TestTrackAnswersAsApplicationInsights(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		gzipped    bool
		wantStatus int
		want       trackprotocol.Response
	}{
		{
			name:       "gzip JSON lines, all valid",
			body:       message(testKey, "a") + "\n" + message(testKey, "b") + "\n",
			gzipped:    true,
			wantStatus: http.StatusOK,
			want:       trackprotocol.Response{ItemsReceived: 2, ItemsAccepted: 2, Errors: []trackprotocol.ItemError{}},
		},
		{
			name:       "plain JSON array",
			body:       "[" + message(testKey, "a") + "," + message(testKey, "b") + "]",
			wantStatus: http.StatusOK,
			want:       trackprotocol.Response{ItemsReceived: 2, ItemsAccepted: 2, Errors: []trackprotocol.ItemError{}},
		},
		{
			name:       "instrumentation key compared without case",
			body:       message(strings.ToUpper(testKey), "a"),
			wantStatus: http.StatusOK,
			want:       trackprotocol.Response{ItemsReceived: 1, ItemsAccepted: 1, Errors: []trackprotocol.ItemError{}},
		},
		{
			name:       "wrong instrumentation key",
			body:       message("00000000-0000-0000-0000-000000000000", "a"),
			gzipped:    true,
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{ItemsReceived: 1, Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: "Invalid instrumentation key"},
			}},
		},
		{
			name:       "some items invalid",
			body:       message(testKey, "a") + "\n" + message("bad", "b") + "\n" + message(testKey, ""),
			wantStatus: http.StatusPartialContent,
			want: trackprotocol.Response{ItemsReceived: 3, ItemsAccepted: 1, Errors: []trackprotocol.ItemError{
				{Index: 1, StatusCode: 400, Message: "Invalid instrumentation key"},
				{Index: 2, StatusCode: 400, Message: "Field 'message' on type 'MessageData' is required but missing or empty"},
			}},
		},
		{
			name:       "unparseable time",
			body:       strings.Replace(message(testKey, "a"), "2026-11-27T10:00:00.123456789Z", "yesterday", 1),
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{ItemsReceived: 1, Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: `Field 'time' on type 'Envelope' is not a valid date-time: "yesterday"`},
			}},
		},
		{
			name:       "unknown envelope name",
			body:       strings.Replace(message(testKey, "a"), "ApplicationInsights.Message", "ApplicationInsights.Log", 1),
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{ItemsReceived: 1, Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: `Unknown envelope name "Microsoft.ApplicationInsights.Log"`},
			}},
		},
		{
			name:       "base type not matching the name",
			body:       strings.Replace(message(testKey, "a"), `"baseType":"MessageData"`, `"baseType":"EventData"`, 1),
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{ItemsReceived: 1, Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: `Field 'baseType' on type 'Data' must be "MessageData" for Microsoft.ApplicationInsights.Message`},
			}},
		},
		{
			name:       "not JSON",
			body:       "hello",
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{ItemsReceived: 1, Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: "invalid JSON: invalid character 'h' looking for beginning of value"},
			}},
		},
		{
			name:       "empty body",
			body:       "",
			wantStatus: http.StatusBadRequest,
			want: trackprotocol.Response{Errors: []trackprotocol.ItemError{
				{Index: 0, StatusCode: 400, Message: "no telemetry items in the request"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t)
			status, resp := post(t, h, "/v2.1/track", []byte(tt.body), tt.gzipped)
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.want, resp)
		})
	}
}

func TestAcceptedEnvelopesAreStoredOnePerLine(t *testing.T) {
	h, store := newTestHandler(t)
	body := "[" + message(testKey, "first") + ",\n  " + message("bad", "x") + "," + message(testKey, "second") + "]"
	status, _ := post(t, h, "/v2/track", []byte(body), true)
	require.Equal(t, http.StatusPartialContent, status)

	envs, err := ReadEnvelopes(store.Path())
	require.NoError(t, err)
	require.Len(t, envs, 2)
	assert.Equal(t, "first", envs[0].Data.BaseData.Message)
	assert.Equal(t, "second", envs[1].Data.BaseData.Message)
	assert.Equal(t, "run-1", envs[1].Data.BaseData.Properties["parent_run_id"])
	require.NotNil(t, envs[1].Data.BaseData.SeverityLevel)
	assert.Equal(t, 3, *envs[1].Data.BaseData.SeverityLevel)
	assert.Equal(t, filepath.Join(filepath.Dir(store.Path()), EnvelopesFile), store.Path())
}

func TestStoreFailureAsksForEveryItemAgain(t *testing.T) {
	h, store := newTestHandler(t)
	require.NoError(t, store.Close())
	status, resp := post(t, h, "/v2.1/track", []byte(message(testKey, "a")), false)
	assert.Equal(t, http.StatusInternalServerError, status)
	require.Len(t, resp.Errors, 1)
	assert.Equal(t, 500, resp.Errors[0].StatusCode)
}

func TestTrackTakesOnlyPOST(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2.1/track", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestFailItemFailsChosenItems(t *testing.T) {
	store, err := OpenStore(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	h := NewHandler(Options{InstrumentationKey: testKey, Store: store, FailItem: func(i int, _ []byte) int {
		if i == 0 {
			return http.StatusServiceUnavailable
		}
		return 0
	}})
	status, resp := post(t, h, "/v2.1/track", []byte(message(testKey, "a")+"\n"+message(testKey, "b")), true)
	assert.Equal(t, http.StatusPartialContent, status)
	assert.Equal(t, trackprotocol.Response{ItemsReceived: 2, ItemsAccepted: 1, Errors: []trackprotocol.ItemError{{Index: 0, StatusCode: 503, Message: "Service Unavailable"}}}, resp)
}
