// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query/storegen"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
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

	// Another file of the same size: one byte of its first line differs.
	writeStore(t, dir, 2*minSealRows, 7, false)
	count(t, Open(dir), "traces | count")
	path := filepath.Join(dir, EnvelopesFile)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	i := strings.Index(string(raw), `"message":"`) + len(`"message":"`)
	raw[i] ^= 0x20 // the first message's first letter, in another case
	require.NoError(t, os.WriteFile(path, raw, 0o600))
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

// smallSeals makes extents of a few hundred rows, so that small stores
// seal many times, in the middle of a read too.
func smallSeals(t *testing.T) {
	rows, min := sealRows, minSealRows
	sealRows, minSealRows = 512, 128
	t.Cleanup(func() { sealRows, minSealRows = rows, min })
}

// Three stores on one folder (a collector and two CLIs), each queried
// from its own goroutine while a writer appends: every query sees the
// rows there were when it started, never fewer than before, and at the
// end every store answers as the envelopes do (go test -race for the
// locking).
func TestQueriesWhileTheFileGrows(t *testing.T) {
	smallSeals(t)
	dir := t.TempDir()
	writeStore(t, dir, 100, 7, false)
	const appends, each = 30, 200
	done := make(chan struct{})
	errs := make(chan error, 8)
	go func() {
		defer close(done)
		for i := 0; i < appends; i++ {
			f, err := os.OpenFile(filepath.Join(dir, EnvelopesFile), os.O_WRONLY|os.O_APPEND, 0o600)
			if err == nil {
				err = storegen.Write(f, storegen.Options{Now: fixtureNow, Days: 10, Runs: 12, Traces: each, Seed: uint64(i)})
				err = errors.Join(err, f.Close())
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	stores := []*Store{Open(dir), Open(dir), Open(dir)}
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Add(1)
		go func(s *Store) {
			defer wg.Done()
			last := int64(0)
			for {
				select {
				case <-done:
					return
				default:
				}
				var n int64
				err := s.Query("traces | count", fixtureNow, Span{}, func(res *kql.Result) error {
					rows, err := res.Rows()
					if err == nil {
						n = rows[0][0].I
					}
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				if n < last {
					errs <- fmt.Errorf("%d rows after %d", n, last)
					return
				}
				last = n
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range stores {
		assert.Equal(t, int64(100+appends*each), count(t, s, "traces | count"))
	}
	assert.Equal(t, int64(100+appends*each), count(t, Open(dir), "traces | count"))
	indexedAndNot(t, dir, Open(dir))
}

// A store that has sealed while another process seals more of the file
// at the same time: each takes the other's index mid-read, and no row is
// lost or counted twice.
func TestSealersTakeEachOthersIndexMidRead(t *testing.T) {
	smallSeals(t)
	dir := t.TempDir()
	writeStore(t, dir, 6000, 7, false)
	a, b := Open(dir), Open(dir)
	var wg sync.WaitGroup
	counts := make([]int64, 2)
	for i, s := range []*Store{a, b} {
		wg.Add(1)
		go func(i int, s *Store) {
			defer wg.Done()
			_ = s.Query("traces | count", fixtureNow, Span{}, func(res *kql.Result) error {
				rows, err := res.Rows()
				if err == nil {
					counts[i] = rows[0][0].I
				}
				return err
			})
		}(i, s)
	}
	wg.Wait()
	assert.Equal(t, []int64{6000, 6000}, counts)
	total := 0
	for _, e := range Open(dir).manifest.Extents {
		total += e.Tables["traces"].Rows
	}
	assert.LessOrEqual(t, total, 6000, "no row sealed twice")
	indexedAndNot(t, dir, Open(dir))
}

// A first line longer than the 64 KiB that identify the file, sealed
// twice: the second seal adds to the index rather than replace it.
func TestLongFirstLine(t *testing.T) {
	smallSeals(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, EnvelopesFile))
	require.NoError(t, err)
	fmt.Fprintf(f, `{"name":"Microsoft.ApplicationInsights.Message","time":"2026-12-01T10:00:00Z","iKey":"k","data":{"baseType":"MessageData","baseData":{"message":"%s"}}}`+"\n", strings.Repeat("x", 100<<10))
	require.NoError(t, f.Close())
	writeStore(t, dir, 600, 7, true)
	s := Open(dir)
	assert.Equal(t, int64(601), count(t, s, "traces | count"))
	writeStore(t, dir, 600, 8, true)
	assert.Equal(t, int64(1201), count(t, s, "traces | count"))
	assert.GreaterOrEqual(t, len(s.manifest.Extents), 2)
	assert.Equal(t, int64(1201), count(t, Open(dir), "traces | count"))
}

// The index deleted under a store that has sealed: its rows are read
// again, not lost.
func TestIndexDeletedUnderAStore(t *testing.T) {
	smallSeals(t)
	dir := t.TempDir()
	writeStore(t, dir, 1000, 7, false)
	s := Open(dir)
	assert.Equal(t, int64(1000), count(t, s, "traces | count"))
	require.NotEmpty(t, s.manifest.Extents)
	require.NoError(t, os.RemoveAll(filepath.Join(dir, IndexDir)))
	writeStore(t, dir, 1000, 8, true)
	assert.Equal(t, int64(2000), count(t, s, "traces | count"))
	assert.Equal(t, int64(2000), count(t, Open(dir), "traces | count"))
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
