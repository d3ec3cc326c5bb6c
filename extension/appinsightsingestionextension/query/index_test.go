// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query/storegen"
)

func writeStore(t *testing.T, dir string, traces int, seed uint64, appendTo bool) {
	t.Helper()
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(filepath.Join(dir, EnvelopesFile), flags, 0o600)
	require.NoError(t, err)
	require.NoError(t, storegen.Write(f, storegen.Options{Now: fixtureNow, Days: 10, Runs: 12, Traces: traces, Seed: seed}))
	require.NoError(t, f.Close())
}

// indexedAndNot answers every corpus query from a store that seals its
// rows into the index and from one that keeps them in memory, and
// requires the same answers.
func indexedAndNot(t *testing.T, dir string, indexed *Store) {
	t.Helper()
	_, cases := readCorpus(t, filepath.Join("testdata", "conformance", "queries.txt"))
	plain := Open(t.TempDir())
	plain.path = filepath.Join(dir, EnvelopesFile)
	plain.noIndex = true
	for _, c := range cases {
		want, err := resultJSON(t, plain, c.query)
		require.NoError(t, err, c.query)
		got, err := resultJSON(t, indexed, c.query)
		require.NoError(t, err, c.query)
		assert.JSONEq(t, want, got, "%s:\n%s", c.title, c.query)
	}
}

// A store large enough to seal: its extents answer as the envelopes do,
// in the process that sealed them and in a later one that reads only the
// index and the lines appended since.
func TestIndexAnswersAsTheEnvelopesDo(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 3*minSealRows, 7, false)
	first := Open(dir)
	count(t, first, "traces | count")
	require.NotEmpty(t, first.extents, "the rows were sealed")
	assert.Zero(t, first.memoryRows())
	manifest, err := os.ReadFile(filepath.Join(dir, IndexDir, "manifest.json"))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), `"offset"`)
	indexedAndNot(t, dir, first)

	// More lines, fewer than a seal takes: the index and the lines in
	// memory together.
	writeStore(t, dir, 500, 8, true)
	later := Open(dir)
	assert.Equal(t, len(first.extents), len(later.extents), "a new process takes the index")
	indexedAndNot(t, dir, later)
	assert.Positive(t, later.memoryRows(), "the appended lines are read from the envelopes")
}

// The index is a copy: one of another envelopes file, or one deleted,
// is built again from the envelopes.
func TestIndexOfAnotherFileIsIgnored(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 2*minSealRows, 7, false)
	require.Equal(t, int64(2*minSealRows), count(t, Open(dir), "traces | count"))

	// A new store in the same folder, smaller than the index's offset.
	writeStore(t, dir, 100, 9, false)
	assert.Equal(t, int64(100), count(t, Open(dir), "traces | count"))

	// A new store of the same size, other content.
	writeStore(t, dir, 2*minSealRows, 7, false)
	count(t, Open(dir), "traces | count")
	writeStore(t, dir, 2*minSealRows, 11, false)
	s := Open(dir)
	assert.Empty(t, s.extents, "the first line differs: not this file's index")
	indexedAndNot(t, dir, s)

	require.NoError(t, os.RemoveAll(filepath.Join(dir, IndexDir)))
	indexedAndNot(t, dir, Open(dir))
}

// A column file damaged on disk fails the query that reads it, saying
// so; it never panics or answers wrongly.
func TestDamagedIndexFailsTheQuery(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 2*minSealRows, 7, false)
	count(t, Open(dir), "traces | count")
	matches, err := filepath.Glob(filepath.Join(dir, IndexDir, "extent-*", "traces", "message"))
	require.NoError(t, err)
	require.NotEmpty(t, matches)
	require.NoError(t, os.WriteFile(matches[0], []byte("rcq1\x01\xff\xff"), 0o600))
	_, err = resultJSON(t, Open(dir), "traces | summarize dcount(message)")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read the index")
	// A query that reads the damaged column only as it writes its rows.
	_, err = resultJSON(t, Open(dir), "traces | project message")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read the index")
	// Columns the damage does not touch still answer.
	_, err = resultJSON(t, Open(dir), "traces | summarize count() by severityLevel")
	assert.NoError(t, err)
}

// Queries and a writer at once: each query sees the rows there were
// when it started, and nothing races (go test -race).
func TestQueriesWhileTheFileGrows(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 100, 7, false)
	s := Open(dir)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			writeStore(t, dir, 50, uint64(i), true)
			time.Sleep(time.Millisecond)
		}
	}()
	last := int64(0)
	for {
		n := count(t, s, "traces | count")
		assert.GreaterOrEqual(t, n, last, "rows are never lost")
		last = n
		select {
		case <-done:
			assert.Equal(t, int64(100+20*50), count(t, s, "traces | count"))
			return
		default:
		}
	}
}
