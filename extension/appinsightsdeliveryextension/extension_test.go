// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
)

// roundTrip sends one request through the middleware to a server answering
// status and body, and returns what the caller read and what was logged.
func roundTrip(t *testing.T, status int, body string) (string, []observer.LoggedEntry) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()

	core, logs := observer.New(zapcore.DebugLevel)
	set := extensiontest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	ext, err := NewFactory().Create(context.Background(), set, createDefaultConfig())
	require.NoError(t, err)
	got, read := trackThrough(t, ext.(extensionmiddleware.HTTPClient), srv.URL)
	assert.Equal(t, status, got)
	return string(read), logs.All()
}

// trackThrough sends one track request through the middleware to url,
// and returns the answer's status and body.
func trackThrough(t *testing.T, mw extensionmiddleware.HTTPClient, url string) (int, []byte) {
	t.Helper()
	wrap, err := mw.GetHTTPRoundTripper(context.Background())
	require.NoError(t, err)
	rt, err := wrap(context.Background(), http.DefaultTransport)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+"/v2.1/track", strings.NewReader("{}"))
	require.NoError(t, err)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

func TestReportsWhatWasNotAccepted(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantLevel zapcore.Level
		wantMsg   string
		wantField map[string]any
	}{
		{name: "all accepted", status: 200, body: `{"itemsReceived":2,"itemsAccepted":2,"errors":[]}`},
		{name: "206 but all accepted", status: 206, body: `{"itemsReceived":2,"itemsAccepted":2,"errors":[]}`},
		{
			name:   "wrong instrumentation key",
			status: 400, body: `{"itemsReceived":2,"itemsAccepted":0,"errors":[{"index":0,"statusCode":400,"message":"Invalid instrumentation key"},{"index":1,"statusCode":400,"message":"Invalid instrumentation key"}]}`,
			wantLevel: zapcore.ErrorLevel, wantMsg: "Application Insights rejected telemetry items for good",
			wantField: map[string]any{"items_rejected": int64(2), "item_errors": "2×400", "messages": "Invalid instrumentation key"},
		},
		{
			name:   "partial, retryable",
			status: 206, body: `{"itemsReceived":3,"itemsAccepted":2,"errors":[{"index":1,"statusCode":503,"message":"busy"}]}`,
			wantLevel: zapcore.WarnLevel, wantMsg: "Application Insights asked to retry telemetry items",
			wantField: map[string]any{"items_retried": int64(1), "items_rejected": int64(0)},
		},
		{
			name:   "throttled without a body",
			status: 429, body: ``,
			wantLevel: zapcore.ErrorLevel, wantMsg: "Application Insights rejected a track request",
			wantField: map[string]any{"status": int64(429), "retried": true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read, logs := roundTrip(t, tt.status, tt.body)
			assert.Equal(t, tt.body, read, "the exporter still reads the whole answer")
			if tt.wantMsg == "" {
				assert.Empty(t, logs)
				return
			}
			require.Len(t, logs, 1)
			assert.Equal(t, tt.wantLevel, logs[0].Level)
			assert.Equal(t, tt.wantMsg, logs[0].Message)
			fields := logs[0].ContextMap()
			for k, v := range tt.wantField {
				assert.Equal(t, v, fields[k], k)
			}
		})
	}
}

func TestReportsUnreachableEndpoint(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	rt := &passThrough{next: http.DefaultTransport, logger: zap.New(core)}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v2.1/track", strings.NewReader("{}"))
	require.NoError(t, err)
	_, err = rt.RoundTrip(req)
	require.Error(t, err)
	require.Len(t, logs.All(), 1)
	assert.Equal(t, zapcore.ErrorLevel, logs.All()[0].Level)
}

// Shutdown waits for the exporter's last flush: a track request under
// way when it begins, answered only later.
func TestShutdownWaitsForTheLastFlush(t *testing.T) {
	entered, answer := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-answer
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	e := newTestExtension(t, &Config{ShutdownTimeout: 10 * time.Second}, zap.NewNop())
	wrap, err := e.GetHTTPRoundTripper(context.Background())
	require.NoError(t, err)
	rt, err := wrap(context.Background(), http.DefaultTransport)
	require.NoError(t, err)

	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
		if assert.NoError(t, err) {
			if resp, err := rt.RoundTrip(req); assert.NoError(t, err) {
				assert.NoError(t, resp.Body.Close())
			}
		}
	}()
	<-entered
	shutDown := make(chan struct{})
	go func() {
		assert.NoError(t, e.Shutdown(context.Background()))
		close(shutDown)
	}()
	select {
	case <-shutDown:
		t.Fatal("shutdown returned while the last flush was under way")
	case <-time.After(2 * quietPeriod):
	}
	close(answer)
	<-flushed
	select {
	case <-shutDown:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not return after the last flush was answered")
	}
}

func TestShutdownGivesUpAfterItsTimeout(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	e := newTestExtension(t, &Config{ShutdownTimeout: 300 * time.Millisecond}, zap.New(core))
	e.activity.Start() // a request that never ends
	start := time.Now()
	require.NoError(t, e.Shutdown(context.Background()))
	assert.Less(t, time.Since(start), 3*time.Second)
	require.Len(t, logs.All(), 1)
	assert.Equal(t, int64(1), logs.All()[0].ContextMap()["requests"])
}

func newTestExtension(t *testing.T, cfg *Config, logger *zap.Logger) *deliveryExtension {
	t.Helper()
	set := componenttest.NewNopTelemetrySettings()
	set.Logger = logger
	e, err := newDeliveryExtension(cfg, set)
	require.NoError(t, err)
	return e
}

// Without a spool, an answer that did not accept every item is read to
// report it, but at most maxAnswer of it: a proxy's error page cannot
// fill the memory.
func TestPassThroughReadsABoundedAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.Copy(w, io.LimitReader(neverEnding('x'), 3*maxAnswer))
	}))
	defer srv.Close()
	e := newTestExtension(t, &Config{ShutdownTimeout: time.Second}, zap.NewNop())
	status, body := trackThrough(t, e, srv.URL)
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Len(t, body, maxAnswer)
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
