// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtureAPI() *API {
	return &API{Store: Open(filepath.Join("testdata", "store")), Now: func() time.Time { return fixtureNow }}
}

func serve(t *testing.T, h http.Handler, r *http.Request) (int, http.Header, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	return w.Code, w.Result().Header, string(body)
}

func get(query string, extra ...string) *http.Request {
	v := url.Values{"query": {query}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return httptest.NewRequest(http.MethodGet, "/v1/apps/local/query?"+v.Encode(), nil)
}

func TestAPIAnswersAsTheService(t *testing.T) {
	code, header, body := serve(t, fixtureAPI(), get("requests | summarize count() by success | order by success asc"))
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
	assert.JSONEq(t, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"success","type":"bool"},{"name":"count_","type":"long"}],"rows":[[false,2],[true,22]]}]}`, body)
}

func TestAPIPost(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/v1/apps/any-app-id/query", strings.NewReader(`{"query":"traces | count","timespan":"P2D"}`))
	r.Header.Set("Content-Type", "application/json")
	code, _, body := serve(t, fixtureAPI(), r)
	require.Equal(t, http.StatusOK, code, body)
	// The same as the query's own filter on the two days before now.
	want := count(t, Open(filepath.Join("testdata", "store")), "traces | where timestamp between (datetime(2026-11-29T12:00:00Z) .. datetime(2026-12-01T12:00:00Z)) | count")
	require.Positive(t, want)
	assert.JSONEq(t, `{"tables":[{"name":"PrimaryResult","columns":[{"name":"Count","type":"long"}],"rows":[[`+strconv.FormatInt(want, 10)+`]]}]}`, body)
}

func TestAPITimespans(t *testing.T) {
	for _, tc := range []struct{ timespan, want string }{
		{"", "24"},
		{"P7D", "15"},
		{"PT36H", "3"},
		{"2026-11-21T00:00:00Z/2026-11-23T00:00:00Z", "6"},
		{"2026-11-21T00:00:00Z/P1D", "3"},
	} {
		code, _, body := serve(t, fixtureAPI(), get("requests | count", "timespan", tc.timespan))
		require.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, `"rows":[[`+tc.want+`]]`, tc.timespan)
	}
}

func TestAPIRenderHint(t *testing.T) {
	q := "requests | summarize count() by bin(timestamp, 1d) | render timechart"
	_, _, plain := serve(t, fixtureAPI(), get(q))
	assert.NotContains(t, plain, "render")
	r := get(q)
	r.Header.Set("Prefer", "include-render=true")
	_, _, withRender := serve(t, fixtureAPI(), r)
	assert.Contains(t, withRender, `"render":{"visualization":"timechart"}`)
}

func TestAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"a wrong query", get("traces | where nope == 1"), 400, "SemanticError"},
		{"no query", get(""), 400, "QueryMissing"},
		{"a bad timespan", get("traces | count", "timespan", "a week"), 400, "InvalidTimespan"},
		{"a form POST", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/v1/apps/local/query", strings.NewReader("query=traces"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 415, "UnsupportedMediaType"},
		{"bad JSON", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/v1/apps/local/query", strings.NewReader("{"))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), 400, "BadArgumentError"},
		{"PUT", httptest.NewRequest(http.MethodPut, "/v1/apps/local/query", nil), 405, "MethodNotAllowed"},
		{"another path", httptest.NewRequest(http.MethodGet, "/v1/apps/local/metrics", nil), 404, "PathNotFoundError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, header, body := serve(t, fixtureAPI(), tc.req)
			assert.Equal(t, tc.status, code)
			assert.Equal(t, "application/json; charset=utf-8", header.Get("Content-Type"))
			var e apiError
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			got := e.Error.Code
			if e.Error.InnerError != nil {
				got = e.Error.InnerError.Code
			}
			assert.Equal(t, tc.code, got, body)
		})
	}
}

// A page of another site may send a request (no preflight for a simple
// GET), but the API refuses it, by the headers browsers send.
func TestAPIRefusesCrossSiteRequests(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"another site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"another port of the same host", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"}, 403},
		{"an Origin alone", map[string]string{"Origin": "http://evil.example"}, 403},
		{"the page itself", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, 200},
		{"curl", nil, 200},
		{"a typed address", map[string]string{"Sec-Fetch-Site": "none"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range []http.Handler{fixtureAPI(), Page()} {
				r := get("traces | count")
				if _, ok := h.(*API); !ok {
					r = httptest.NewRequest(http.MethodGet, "/", nil)
				}
				for k, v := range tc.headers {
					r.Header.Set(k, v)
				}
				code, _, _ := serve(t, h, r)
				assert.Equal(t, tc.status, code, "%T", h)
			}
		})
	}
}

func TestPageAssets(t *testing.T) {
	for path, want := range map[string]string{"/": "text/html; charset=utf-8", "/page.js": "text/javascript; charset=utf-8", "/page.css": "text/css; charset=utf-8"} {
		code, header, body := serve(t, Page(), httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, code, path)
		assert.Equal(t, want, header.Get("Content-Type"), path)
		assert.Contains(t, header.Get("Content-Security-Policy"), "default-src 'self'")
		assert.NotEmpty(t, body)
	}
	code, _, _ := serve(t, Page(), httptest.NewRequest(http.MethodGet, "/etc/passwd", nil))
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = serve(t, Page(), httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, code)
}

// Only this machine's loopback clients, naming it as the host: a page of
// a name rebound to 127.0.0.1 is refused.
func TestLoopbackOnly(t *testing.T) {
	h := Loopback(fixtureAPI())
	for _, tc := range []struct {
		remote, host string
		status       int
	}{
		{"127.0.0.1:5000", "127.0.0.1:8787", 200},
		{"127.0.0.1:5000", "localhost:8787", 200},
		{"[::1]:5000", "[::1]:8787", 200},
		{"127.0.0.1:5000", "evil.example:8787", 403},
		{"10.1.2.3:5000", "127.0.0.1:8787", 403},
	} {
		r := get("traces | count")
		r.RemoteAddr, r.Host = tc.remote, tc.host
		code, _, _ := serve(t, h, r)
		assert.Equal(t, tc.status, code, "%s asking %s", tc.remote, tc.host)
	}
}
