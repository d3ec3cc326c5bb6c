// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deadletter

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/tempdir"
)

func read(t *testing.T, dir string) []Record {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	var out []Record
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var r Record
			require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
			out = append(out, r)
		}
		require.NoError(t, fh.Close())
	}
	return out
}

func TestRecordsAreJSONLines(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	f, err := Open(dir, 1<<20)
	require.NoError(t, err)
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	_, err = f.Add([]Record{
		{Time: at, Reason: "rejected", Status: 400, Message: "Invalid instrumentation key", Item: json.RawMessage(`{"name":"x","iKey":"k"}`)},
		{Time: at, Reason: "too_large", Status: 413, Item: json.RawMessage("not json")},
	})
	require.NoError(t, err)
	got := read(t, dir)
	require.Len(t, got, 2)
	assert.JSONEq(t, `{"name":"x","iKey":"k"}`, string(got[0].Item), "the item as sent, ready to send again")
	assert.Equal(t, "Invalid instrumentation key", got[0].Message)
	assert.Equal(t, "not json", got[1].Raw)
	if runtime.GOOS != "windows" { // POSIX permissions
		info, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	}
}

// The folder stays within max_bytes: its oldest files go first.
func TestFolderIsBounded(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	const maxBytes = 8 << 10
	f, err := Open(dir, maxBytes)
	require.NoError(t, err)
	item := json.RawMessage(`"` + strings.Repeat("x", 500) + `"`)
	evicted := 0
	for i := range 100 {
		n, err := f.Add([]Record{{Time: time.Unix(int64(i), 0).UTC(), Reason: "rejected", Item: item}})
		require.NoError(t, err)
		evicted += n
	}
	assert.LessOrEqual(t, f.Bytes(), int64(maxBytes))
	var total int64
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		total += info.Size()
	}
	assert.Equal(t, f.Bytes(), total)
	got := read(t, dir)
	require.NotEmpty(t, got)
	assert.Equal(t, time.Unix(99, 0).UTC(), got[len(got)-1].Time, "the newest are kept")
	assert.Equal(t, 100, evicted+len(got), "every record is kept or counted as evicted")

	// A new process counts what is there, and the records of the files it
	// evicts, which it did not write.
	again, err := Open(dir, maxBytes)
	require.NoError(t, err)
	assert.Equal(t, total, again.Bytes())
	evicted = 0
	for i := range 100 {
		n, err := again.Add([]Record{{Time: time.Unix(int64(100+i), 0).UTC(), Reason: "rejected", Item: item}})
		require.NoError(t, err)
		evicted += n
	}
	assert.Equal(t, 100+len(got), evicted+len(read(t, dir)))
}
