// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

var gzipHeader = http.Header{"Content-Encoding": {"gzip"}, "X-Tenant": {"tenant-a"}}

func put(t *testing.T, s *Spool, body string, items int, at time.Time) Batch {
	t.Helper()
	b, evicted, err := s.Put("http://ingest/v2.1/track", gzipHeader, []byte(body), items, at)
	require.NoError(t, err)
	require.Empty(t, evicted)
	return b
}

func TestPutSurvivesReopenInOrder(t *testing.T) {
	dir := t.TempDir()
	s, corrupt, err := Open(dir, 1<<20)
	require.NoError(t, err)
	require.Empty(t, corrupt)
	put(t, s, "first", 2, t0)
	put(t, s, "second\nwith a newline", 3, t0.Add(time.Second))

	// A new process: what was put is there, in order, with its header.
	require.NoError(t, s.Close())
	s2, corrupt, err := Open(dir, 1<<20)
	require.NoError(t, err)
	require.Empty(t, corrupt)
	assert.Equal(t, Stats{Bytes: s.Stats().Bytes, Items: 5, Oldest: t0}, s2.Stats())
	b, ok, _ := s2.Oldest()
	require.True(t, ok)
	assert.Equal(t, "http://ingest/v2.1/track", b.URL)
	assert.Equal(t, "gzip", b.Encoding())
	assert.Equal(t, "tenant-a", b.Header.Get("X-Tenant"), "headers survive a restart")
	body, err := s2.Body(b)
	require.NoError(t, err)
	assert.Equal(t, "first", string(body))

	removed, err := s2.Remove(b)
	require.NoError(t, err)
	assert.True(t, removed)
	b, ok, _ = s2.Oldest()
	require.True(t, ok)
	body, err = s2.Body(b)
	require.NoError(t, err)
	assert.Equal(t, "second\nwith a newline", string(body))

	// Numbering goes on after the last batch, never reusing a name.
	third := put(t, s2, "third", 1, t0.Add(2*time.Second))
	assert.Greater(t, third.Seq, b.Seq)
}

func TestOpenRemovesHalfWrittenAndUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, 1<<20)
	require.NoError(t, err)
	put(t, s, "kept", 1, t0)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000009.track.tmp"), []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000010.track"), []byte("no header"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notanumber.track"), []byte(`{"v":1,"url":"u","items":1}`+"\n"), 0o600))
	require.NoError(t, s.Close())

	s2, corrupt, err := Open(dir, 1<<20)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"00000000000000000010.track", "notanumber.track"}, corrupt)
	assert.Equal(t, int64(1), s2.Stats().Items)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "only the good batch and the lock file are left on disk")
}

func TestPutEvictsOldestToStayUnderMaxBytes(t *testing.T) {
	s, _, err := Open(t.TempDir(), 1<<20)
	require.NoError(t, err)
	first := put(t, s, "x", 1, t0)
	s.maxBytes = 3 * first.Size
	put(t, s, "y", 1, t0)
	put(t, s, "z", 1, t0)

	_, evicted, err := s.Put("http://ingest/v2.1/track", gzipHeader, []byte("w"), 1, t0)
	require.NoError(t, err)
	require.Len(t, evicted, 1)
	assert.Equal(t, first.Seq, evicted[0].Seq)
	assert.LessOrEqual(t, s.Stats().Bytes, s.maxBytes)
	assert.Equal(t, int64(3), s.Stats().Items)

	// A delivery that finished after its batch was evicted changes nothing.
	removed, err := s.Remove(first)
	require.NoError(t, err)
	assert.False(t, removed)

	_, _, err = s.Put("http://ingest/v2.1/track", gzipHeader, make([]byte, s.maxBytes), 1, t0)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, int64(3), s.Stats().Items, "a request too large for the spool evicts nothing")
}

func TestReplaceKeepsPlaceAndAge(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, 1<<20)
	require.NoError(t, err)
	b := put(t, s, "a\nb\nc", 3, t0)
	put(t, s, "later", 1, t0.Add(time.Minute))

	nb, err := s.Replace(b, []byte("b"), 1)
	require.NoError(t, err)
	assert.Equal(t, b.Seq, nb.Seq)
	assert.Equal(t, int64(2), s.Stats().Items)

	require.NoError(t, s.Close())
	s2, _, err := Open(dir, 1<<20)
	require.NoError(t, err)
	oldest, ok, _ := s2.Oldest()
	require.True(t, ok)
	assert.Equal(t, b.Seq, oldest.Seq)
	assert.True(t, oldest.Created.Equal(t0))
	assert.Equal(t, 1, oldest.Items)
	body, err := s2.Body(oldest)
	require.NoError(t, err)
	assert.Equal(t, "b", string(body))
	assert.Equal(t, s.Stats().Bytes, s2.Stats().Bytes)
}

func TestRemoveCreatedBefore(t *testing.T) {
	s, _, err := Open(t.TempDir(), 1<<20)
	require.NoError(t, err)
	put(t, s, "old", 4, t0)
	put(t, s, "new", 2, t0.Add(time.Hour))
	removed, err := s.RemoveCreatedBefore(t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, removed, 1)
	assert.Equal(t, 4, removed[0].Items)
	assert.Equal(t, Stats{Bytes: s.Stats().Bytes, Items: 2, Oldest: t0.Add(time.Hour)}, s.Stats())
}

func TestOldestSignalsWhenABatchIsAdded(t *testing.T) {
	s, _, err := Open(t.TempDir(), 1<<20)
	require.NoError(t, err)
	_, ok, added := s.Oldest()
	require.False(t, ok)
	put(t, s, "x", 1, t0)
	select {
	case <-added:
	default:
		t.Fatal("adding a batch did not signal a waiting deliverer")
	}
}

func TestOneSpoolPerFolder(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir, 1<<20)
	require.NoError(t, err)
	_, _, err = Open(dir, 1<<20)
	require.ErrorContains(t, err, "another collector is using this spool folder")
	require.NoError(t, s.Close())
	s2, _, err := Open(dir, 1<<20)
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}
