// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	require.NotEmpty(t, first.manifest.Extents, "the rows were sealed")
	assert.Zero(t, first.memoryRows())
	manifest, err := os.ReadFile(filepath.Join(dir, IndexDir, "manifest.json"))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), `"offset"`)
	indexedAndNot(t, dir, first)

	// More lines, fewer than a seal takes: the index and the lines in
	// memory together.
	writeStore(t, dir, 500, 8, true)
	later := Open(dir)
	assert.Equal(t, len(first.manifest.Extents), len(later.manifest.Extents), "a new process takes the index")
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
	assert.Empty(t, s.manifest.Extents, "the first line differs: not this file's index")
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
	s := Open(dir)
	_, err = resultJSON(t, s, "traces | summarize count() by severityLevel")
	assert.NoError(t, err)
	// The store that met the damage builds its index again: the next
	// query answers.
	_, err = resultJSON(t, s, "traces | project message")
	require.Error(t, err)
	got, err := resultJSON(t, s, "traces | summarize dcount(message)")
	require.NoError(t, err)
	plain := Open(t.TempDir())
	plain.path, plain.noIndex = s.path, true
	want, err := resultJSON(t, plain, "traces | summarize dcount(message)")
	require.NoError(t, err)
	assert.JSONEq(t, want, got)
}

// The collector and runcontext-query seal the same folder: one takes the
// other's index rather than write its own over it, and both answer as the
// envelopes do.
func TestTwoProcessesShareTheIndex(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 100, 7, false)
	collector, cli := Open(dir), Open(dir)
	count(t, collector, "traces | count")
	count(t, cli, "traces | count")
	writeStore(t, dir, 2*minSealRows, 8, true)
	assert.Equal(t, int64(100+2*minSealRows), count(t, cli, "traces | count"), "the CLI seals")
	require.Len(t, cli.manifest.Extents, 1)
	assert.Equal(t, int64(100+2*minSealRows), count(t, collector, "traces | count"), "the collector takes the CLI's index")
	assert.Equal(t, cli.manifest.Extents, collector.manifest.Extents)
	writeStore(t, dir, minSealRows, 9, true)
	count(t, collector, "traces | count")
	require.Len(t, collector.manifest.Extents, 2, "the collector seals after it")
	indexedAndNot(t, dir, cli)
	entries, err := os.ReadDir(filepath.Join(dir, IndexDir))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Len(t, names, 3, "two extents and the manifest, nothing left over: %v", names)
}

// Property names are data: names no file may have seal as any other.
func TestPropertyNamesAreNotFileNames(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, EnvelopesFile))
	require.NoError(t, err)
	for i := 0; i < minSealRows; i++ {
		fmt.Fprintf(f, `{"name":"Microsoft.ApplicationInsights.Message","time":"2026-12-01T10:00:00Z","iKey":"k","data":{"baseType":"MessageData","baseData":{"message":"m","properties":{"":"empty","..":"dots","a/b":"slash","%s":"long","RunId":"R","runId":"r"}}}}`+"\n", strings.Repeat("x", 300))
	}
	require.NoError(t, f.Close())
	s := Open(dir)
	got, err := resultJSON(t, s, `traces | take 1 | project a = customDimensions['..'], b = customDimensions['a/b'], c = customDimensions.RunId, d = customDimensions.runId, e = customDimensions['']`)
	require.NoError(t, err)
	require.Len(t, s.manifest.Extents, 1, "sealed")
	assert.JSONEq(t, `{"columns":[{"name":"a","type":"dynamic"},{"name":"b","type":"dynamic"},{"name":"c","type":"dynamic"},{"name":"d","type":"dynamic"},{"name":"e","type":"dynamic"}],"rows":[["dots","slash","R","r","empty"]]}`, got)
}

// A new envelopes file larger than the old one is read from its start.
func TestReplacedFileIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	writeStore(t, dir, 100, 7, false)
	s := Open(dir)
	assert.Equal(t, int64(100), count(t, s, "traces | count"))
	writeStore(t, dir, 300, 8, false)
	assert.Equal(t, int64(300), count(t, s, "traces | count"))
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

// A sender with a new property name on every record: past maxBagKeys the
// names share one overflow per row, and still answer, sealed or not.
func TestManyPropertyNames(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, EnvelopesFile))
	require.NoError(t, err)
	rows := maxBagKeys + minSealRows
	for i := 0; i < rows; i++ {
		fmt.Fprintf(f, `{"name":"Microsoft.ApplicationInsights.Message","time":"2026-12-01T10:00:00Z","iKey":"k","data":{"baseType":"MessageData","baseData":{"message":"m%d","properties":{"Level":"INFO","k%d":"v%d"}}}}`+"\n", i, i, i)
	}
	require.NoError(t, f.Close())
	s := Open(dir)
	q := "traces | where isnotempty(customDimensions.k5) or isnotempty(customDimensions['k" + fmt.Sprint(rows-1) + "']) | project message, n = array_length(bag_keys(customDimensions)), L = customDimensions.Level"
	got, err := resultJSON(t, s, q)
	require.NoError(t, err)
	require.Len(t, s.manifest.Extents, 1, "sealed")
	want := `{"columns":[{"name":"message","type":"string"},{"name":"n","type":"long"},{"name":"L","type":"dynamic"}],"rows":[["m5",2,"INFO"],["m` + fmt.Sprint(rows-1) + `",2,"INFO"]]}`
	assert.JSONEq(t, want, got)
	indexedAndNot(t, dir, Open(dir))
}
