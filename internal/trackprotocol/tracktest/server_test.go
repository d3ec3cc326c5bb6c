// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package tracktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

func envelope(text string) string {
	return `{"name":"Microsoft.ApplicationInsights.Message","data":{"baseData":{"message":"` + text + `"}}}`
}

func track(t *testing.T, s *Server, lines ...string) (*http.Response, trackprotocol.Response, error) {
	t.Helper()
	resp, err := http.Post(s.URL+"v2.1/track", "application/x-json-stream", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		return nil, trackprotocol.Response{}, err
	}
	defer resp.Body.Close()
	var body trackprotocol.Response
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp, body, nil
}

func TestServerStoresWhatItAccepts(t *testing.T) {
	t.Parallel()
	s := New(t)
	resp, body, err := track(t, s, envelope("a"), envelope("b"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 2, body.ItemsAccepted)
	assert.Equal(t, [][]byte{[]byte(envelope("a")), []byte(envelope("b"))}, s.Accepted())
	assert.Equal(t, 1, s.Requests())
}

func TestInjectedStatusWithRetryAfter(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Inject(Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second, Requests: 2})
	for range 2 {
		resp, _, err := track(t, s, envelope("a"))
		require.NoError(t, err)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		retryAt, err := http.ParseTime(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now().Add(30*time.Second), retryAt, 5*time.Second)
	}
	resp, _, err := track(t, s, envelope("a"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the fault applied to two requests only")
	assert.Len(t, s.Accepted(), 1)
}

func TestFailItemsAnswersPartialSuccess(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.FailItems(func(i int, _ []byte) int {
		if i == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	resp, body, err := track(t, s, envelope("a"), envelope("b"), envelope("c"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, []trackprotocol.ItemError{{Index: 1, StatusCode: 503, Message: "Service Unavailable"}}, body.Errors)
	assert.Equal(t, [][]byte{[]byte(envelope("a")), []byte(envelope("c"))}, s.Accepted())
}

func TestClosedConnectionAndDelay(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Inject(Fault{CloseConnection: true})
	_, _, err := track(t, s, envelope("a"))
	require.Error(t, err)

	s.Inject(Fault{Delay: 300 * time.Millisecond})
	start := time.Now()
	resp, _, err := track(t, s, envelope("a"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
}

func TestDownUntilToldUp(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.Down()
	_, _, err := track(t, s, envelope("a"))
	require.Error(t, err, "connection refused while down")
	s.Up(t)
	resp, _, err := track(t, s, envelope("a"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, s.Accepted(), 1)
}

func TestRequireTokenRefusesOthersWith401(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.RequireToken(func(token string) bool { return token == "good" })
	for _, authorization := range []string{"", "Bearer bad", "good", "Basic good"} {
		req, err := http.NewRequest(http.MethodPost, s.URL+"v2.1/track", strings.NewReader(envelope("a")))
		require.NoError(t, err)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%q", authorization)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"v2.1/track", strings.NewReader(envelope("a")))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer good")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 4, s.Unauthorized())
	assert.Len(t, s.Accepted(), 1)
}
