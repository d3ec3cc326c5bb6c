// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/tempdir"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const url = "http://ingest/v2.1/track"

var gzipHeader = http.Header{"Content-Encoding": {"gzip"}, "X-Tenant": {"tenant-a"}}

func open(t *testing.T, dir string, maxBytes int64) *spool.Spool {
	t.Helper()
	return openWith(t, dir, maxBytes, spool.OS)
}

func put(t *testing.T, s *spool.Spool, body string, items int, at time.Time) *spool.Batch {
	t.Helper()
	b, evicted, err := s.Put(url, gzipHeader, []byte(body), items, at)
	require.NoError(t, err)
	require.Empty(t, evicted)
	return b
}

// claim takes the oldest ready batch, which the test expects to hold body.
func claim(t *testing.T, s *spool.Spool, body string) (*spool.Batch, spool.Request) {
	t.Helper()
	b, _, _ := s.Claim(t0)
	require.NotNil(t, b, "no batch to claim")
	req, err := s.Read(b)
	require.NoError(t, err)
	require.Equal(t, body, string(req.Body))
	return b, req
}

func TestPutSurvivesReopenInOrder(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s := open(t, dir, 1<<20)
	put(t, s, "first", 2, t0)
	put(t, s, "second\nwith a newline", 3, t0.Add(time.Second))

	// A new process: what was put is there, in order, with its header.
	require.NoError(t, s.Close())
	s2 := open(t, dir, 1<<20)
	assert.Equal(t, spool.Stats{Bytes: s.Stats().Bytes, Items: 5, Requests: 2, Oldest: t0}, s2.Stats())
	b, req := claim(t, s2, "first")
	assert.Equal(t, url, req.URL)
	assert.Equal(t, "gzip", req.Encoding())
	assert.Equal(t, "tenant-a", req.Header.Get("X-Tenant"), "headers survive a restart")

	require.NoError(t, s2.Remove(b))
	second, _ := claim(t, s2, "second\nwith a newline")

	// Numbering goes on after the last batch, never reusing a name.
	third := put(t, s2, "third", 1, t0.Add(2*time.Second))
	assert.Greater(t, third.Seq, second.Seq)
}

// Every file takes whole blocks on disk, and max_bytes counts them.
func TestSizeCountsWholeBlocks(t *testing.T) {
	t.Parallel()
	s := open(t, tempdir.New(t), 1<<20)
	b := put(t, s, "853 bytes would take a block", 1, t0)
	assert.Equal(t, int64(spool.BlockSize), b.Size)
	big := put(t, s, strings.Repeat("x", spool.BlockSize), 1, t0)
	assert.Equal(t, int64(2*spool.BlockSize), big.Size)
	assert.Equal(t, int64(3*spool.BlockSize), s.Stats().Bytes)
}

func TestOpenQuarantinesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s := open(t, dir, 1<<20)
	kept := put(t, s, "kept", 1, t0)
	torn := put(t, s, "this body loses its end", 1, t0)
	require.NoError(t, s.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000009.track.tmp"), []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000010.track"), []byte("no header"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notanumber.track"), []byte(`{"v":2,"url":"u","items":1}`+"\n"), 0o600))
	tornPath := filepath.Join(dir, fmt.Sprintf("%020d.track", torn.Seq))
	info, err := os.Stat(tornPath)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(tornPath, info.Size()-4))

	s2, quarantined, err := spool.Open(dir, 1<<20)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	tornName := filepath.Base(tornPath)
	assert.ElementsMatch(t, []string{"00000000000000000010.track", "notanumber.track", tornName}, quarantined)
	assert.Equal(t, int64(1), s2.Stats().Items)
	b, _ := claim(t, s2, "kept")
	assert.Equal(t, kept.Seq, b.Seq)
	// Kept, not deleted: an operator can look at them.
	q, err := os.ReadDir(filepath.Join(dir, spool.QuarantineDir))
	require.NoError(t, err)
	assert.Len(t, q, 3)
	_, err = os.Stat(filepath.Join(dir, "00000000000000000009.track.tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a half-written file was never acknowledged: it goes")
}

// A body that changed on disk fails its checksum when it is read, and the
// file moves to quarantine.
func TestReadQuarantinesACorruptBody(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s := open(t, dir, 1<<20)
	b := put(t, s, "hello", 1, t0)
	path := filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[len(data)-1] ^= 0xff
	require.NoError(t, os.WriteFile(path, data, 0o600))

	c, _, _ := s.Claim(t0)
	require.Same(t, b, c)
	_, err = s.Read(c)
	require.ErrorIs(t, err, spool.ErrCorrupt)
	assert.Equal(t, spool.Stats{}, s.Stats())
	_, err = os.Stat(filepath.Join(dir, spool.QuarantineDir, filepath.Base(path)))
	require.NoError(t, err)
}

func TestPutRefusesHeadersOverTheLimit(t *testing.T) {
	t.Parallel()
	s := open(t, tempdir.New(t), 1<<20)
	_, _, err := s.Put(url, http.Header{"X-Big": {strings.Repeat("h", spool.MaxHeader)}}, []byte("x"), 1, t0)
	require.ErrorIs(t, err, spool.ErrHeaderTooLarge)
	assert.Equal(t, spool.Stats{}, s.Stats())
}

func TestPutEvictsOldestButNeverAClaimedOne(t *testing.T) {
	t.Parallel()
	s := open(t, tempdir.New(t), 3*spool.BlockSize)
	first := put(t, s, "x", 1, t0)
	second := put(t, s, "y", 1, t0)
	put(t, s, "z", 1, t0)

	// The oldest is being delivered: the next oldest makes room.
	c, _, _ := s.Claim(t0)
	require.Same(t, first, c)
	_, evicted, err := s.Put(url, gzipHeader, []byte("w"), 1, t0)
	require.NoError(t, err)
	require.Len(t, evicted, 1)
	assert.Equal(t, second.Seq, evicted[0].Seq)
	assert.Equal(t, spool.Stats{Bytes: 3 * spool.BlockSize, Items: 3, Requests: 3, Oldest: t0}, s.Stats())

	_, _, err = s.Put(url, gzipHeader, make([]byte, 3*spool.BlockSize), 1, t0)
	assert.ErrorIs(t, err, spool.ErrTooLarge)
	assert.Equal(t, int64(3), s.Stats().Items, "a request too large for the spool evicts nothing")
}

func TestClaimSkipsClaimedAndBackingOffBatches(t *testing.T) {
	t.Parallel()
	s := open(t, tempdir.New(t), 1<<20)
	a := put(t, s, "a", 1, t0)
	b := put(t, s, "b", 1, t0)
	c := put(t, s, "c", 1, t0)

	got, _, _ := s.Claim(t0)
	require.Same(t, a, got)
	s.Release(a, t0.Add(time.Minute)) // a failed: it waits a minute
	got, _, _ = s.Claim(t0)
	require.Same(t, b, got, "the others go on while a waits")
	got, _, _ = s.Claim(t0)
	require.Same(t, c, got)
	got, next, changed := s.Claim(t0)
	require.Nil(t, got)
	assert.Equal(t, t0.Add(time.Minute), next, "when to look again")

	s.Release(c, time.Time{})
	select {
	case <-changed:
	default:
		t.Fatal("releasing a batch did not wake a waiting deliverer")
	}
	got, _, _ = s.Claim(t0.Add(time.Minute))
	require.Same(t, a, got, "oldest first once its backoff passed")
}

func TestReplaceAndSplitKeepPlaceAndAge(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s := open(t, dir, 1<<20)
	b := put(t, s, "a\nb\nc\nd", 4, t0)
	put(t, s, "later", 1, t0.Add(time.Minute))

	c, req := claim(t, s, "a\nb\nc\nd")
	require.Same(t, b, c)
	require.NoError(t, s.Replace(c, req, []byte("b\nc\nd"), 3))
	require.NoError(t, s.Split(c, req, []byte("b"), []byte("c\nd"), 1, 2))
	s.Release(c, time.Time{})
	assert.Equal(t, int64(4), s.Stats().Items)

	require.NoError(t, s.Close())
	// After a restart the parts come first, in their place: order is by
	// age, and the age bound and the oldest age see them.
	s2 := open(t, dir, 1<<20)
	assert.Equal(t, t0, s2.Stats().Oldest)
	assert.Len(t, s2.ClaimCreatedBefore(t0.Add(time.Second)), 2, "both parts are as old as their request")
	s3 := reopen(t, s2, dir)
	for _, want := range []string{"b", "c\nd", "later"} {
		claim(t, s3, want)
	}
	assert.Equal(t, s.Stats().Bytes, s3.Stats().Bytes)
}

func reopen(t *testing.T, s *spool.Spool, dir string) *spool.Spool {
	t.Helper()
	require.NoError(t, s.Close())
	return open(t, dir, 1<<20)
}

func TestClaimCreatedBefore(t *testing.T) {
	t.Parallel()
	s := open(t, tempdir.New(t), 1<<20)
	old := put(t, s, "old", 4, t0)
	put(t, s, "new", 2, t0.Add(time.Hour))
	expired := s.ClaimCreatedBefore(t0.Add(time.Minute))
	require.Equal(t, []*spool.Batch{old}, expired)
	require.NoError(t, s.Remove(old))
	assert.Equal(t, spool.Stats{Bytes: spool.BlockSize, Items: 2, Requests: 1, Oldest: t0.Add(time.Hour)}, s.Stats())
}

func TestOneSpoolPerFolder(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s, _, err := spool.Open(dir, 1<<20)
	require.NoError(t, err)
	_, _, err = spool.Open(dir, 1<<20)
	require.ErrorContains(t, err, "another collector is using this spool folder")
	require.NoError(t, s.Close())
	s2, _, err := spool.Open(dir, 1<<20)
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}

func TestFolderIsPrivate(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := filepath.Join(tempdir.New(t), "spool")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	open(t, dir, 1<<20)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
}
