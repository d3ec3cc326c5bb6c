// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
)

func logsOf(bodies ...string) plog.Logs {
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, b := range bodies {
		records.AppendEmpty().Body().SetStr(b)
	}
	return logs
}

// A printed line is taken for the SDK's record when it is the body or
// ends with it after the console format's prefix; each record cancels one
// line, and only within the window.
func TestSeenIndexMatchesOncePerRecordWithinItsWindow(t *testing.T) {
	seen := newSeenIndex(time.Hour)
	seen.observe(logsOf("validation loss increased", "done"))
	line := func(s string) console.Record { return console.Record{Body: s} }
	assert.True(t, seen.take(line("2026-01-01 10:00:00,123 WARNING train: validation loss increased")))
	assert.False(t, seen.take(line("WARNING:train:validation loss increased")), "one record, one line")
	assert.False(t, seen.take(line("not done yet")), "a body must end the line")
	assert.True(t, seen.take(line("epoch 3 - done")))

	expired := newSeenIndex(time.Nanosecond)
	expired.observe(logsOf("done"))
	time.Sleep(time.Millisecond)
	assert.False(t, expired.take(line("done")), "a record only cancels a line within the window")
	assert.Zero(t, expired.size)
}

// Only what the collector took is noted: a refused export's lines still
// go as the console printed them.
func TestTheProxyNotesOnlyWhatTheCollectorTook(t *testing.T) {
	for code, noted := range map[int]bool{http.StatusOK: true, http.StatusServiceUnavailable: false} {
		collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }))
		seen := newSeenIndex(time.Hour)
		proxy, err := startHTTPProxy(strings.TrimPrefix(collector.URL, "http://"), seen)
		require.NoError(t, err)
		body, err := plogotlp.NewExportRequestFromLogs(logsOf("checkpoint written")).MarshalProto()
		require.NoError(t, err)
		resp, err := http.Post("http://"+proxy.addr+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, code, resp.StatusCode, "the collector's answer reaches the step")
		assert.Equal(t, noted, seen.take(console.Record{Body: "checkpoint written"}), "status %d", code)
		proxy.close()
		collector.Close()
	}
}
