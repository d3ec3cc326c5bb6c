// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool/spooltest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/tempdir"
)

const block = spool.BlockSize

func openWith(t *testing.T, dir string, maxBytes int64, fs spool.FileSystem) *spool.Spool {
	t.Helper()
	s, quarantined, err := spool.Open(dir, maxBytes, spool.WithFileSystem(fs))
	require.NoError(t, err)
	require.Empty(t, quarantined)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPutMakesRoomOnceWhenTheDiskIsFull(t *testing.T) {
	t.Parallel()
	fs := &spooltest.FaultFS{}
	s := openWith(t, tempdir.New(t), 1<<20, fs)
	first := put(t, s, "old", 1, t0)
	fs.OnWrite(spooltest.Times(1, fmt.Errorf("write spool file: %w", syscall.ENOSPC)))
	b, evicted, err := s.Put(url, gzipHeader, []byte("new"), 1, t0)
	require.NoError(t, err)
	require.Len(t, evicted, 1)
	assert.Equal(t, first.Seq, evicted[0].Seq)
	claimed, _ := claim(t, s, "new")
	assert.Same(t, b, claimed)
	assert.Equal(t, spool.Stats{Bytes: block, Items: 1, Requests: 1, Oldest: t0}, s.Stats())

	// Still full after making room: the error reaches the caller, who
	// sends the request on without the spool.
	fs.OnWrite(func(string) error { return fmt.Errorf("write spool file: %w", syscall.ENOSPC) })
	_, _, err = s.Put(url, gzipHeader, []byte("newer"), 1, t0)
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Equal(t, spool.Stats{Bytes: block, Items: 1, Requests: 1, Oldest: t0}, s.Stats(), "a failed write reserves nothing")
}

// A write that fails after its file reached the folder (on Windows, a
// folder sync that fails after the rename) must not have its number used
// again: the next request would overwrite that file.
func TestAFailedWriteNeverReusesItsNumber(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	fs := &spooltest.FaultFS{}
	s := openWith(t, dir, 1<<20, fs)
	fs.AfterWrite(func(string) error { return errors.New("sync spool folder: Access is denied") })
	_, _, err := s.Put(url, gzipHeader, []byte("orphan"), 1, t0)
	require.Error(t, err)
	fs.AfterWrite(nil)
	b := put(t, s, "next", 1, t0)
	data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq-1)))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(data), "orphan"), "the earlier file is not overwritten")
}

// A disk that hangs holds only the goroutine that writes to it: Stats
// (the metrics scrape, Shutdown), Claim and Release go on.
func TestAHungDiskHoldsNoReader(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	entered := make(chan string, 4)
	fs := &spooltest.FaultFS{}
	s := openWith(t, tempdir.New(t), 1<<20, fs)
	waiting := put(t, s, "waiting", 2, t0)
	fs.OnWrite(func(path string) error { entered <- path; <-hang; return nil })
	fs.OnRemove(func(path string) error { entered <- path; <-hang; return nil })

	var stuck sync.WaitGroup
	defer stuck.Wait()
	defer close(hang)
	stuck.Go(func() { _, _, _ = s.Put(url, gzipHeader, []byte("stuck"), 1, t0) })
	<-entered
	b, _, _ := s.Claim(t0)
	require.Same(t, waiting, b)
	stuck.Go(func() { _ = s.Remove(b) })
	<-entered

	done := make(chan spool.Stats)
	go func() { done <- s.Stats() }()
	select {
	case st := <-done:
		assert.Equal(t, int64(2*block), st.Bytes, "the write under way and the file being removed take their room")
	case <-time.After(5 * time.Second):
		t.Fatal("Stats waited for a hung disk")
	}
}

// A delivered request whose file cannot be deleted still takes its room
// until a later try deletes it.
func TestAFileThatCannotBeRemovedStaysCounted(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	fs := &spooltest.FaultFS{}
	s := openWith(t, dir, 1<<20, fs)
	put(t, s, "delivered", 3, t0)
	b, _ := claim(t, s, "delivered")
	fs.OnRemove(func(string) error { return &os.PathError{Op: "remove", Err: syscall.EACCES} })
	require.ErrorIs(t, s.Remove(b), syscall.EACCES)
	assert.Equal(t, spool.Stats{Bytes: block}, s.Stats(), "its items are gone, its bytes are not")

	fs.OnRemove(nil)
	put(t, s, "next", 1, t0)
	assert.Equal(t, int64(block), s.Stats().Bytes, "the next write deleted the file")
	_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq)))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A read error that may pass (too many open files, EIO, a permission) is
// not corruption: the file stays where it is, and in the index.
func TestATransientReadErrorKeepsTheFile(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	fs := &spooltest.FaultFS{}
	s := openWith(t, dir, 1<<20, fs)
	b := put(t, s, "kept", 2, t0)
	fs.OnRead(spooltest.Times(1, &os.PathError{Op: "open", Err: syscall.EMFILE}))
	c, _, _ := s.Claim(t0)
	_, err := s.Read(c)
	require.ErrorIs(t, err, syscall.EMFILE)
	assert.False(t, errors.Is(err, spool.ErrCorrupt))
	assert.Equal(t, spool.Stats{Bytes: block, Items: 2, Requests: 1, Oldest: t0}, s.Stats())
	_, err = os.Stat(filepath.Join(dir, spool.QuarantineDir))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing quarantined")

	s.Release(c, time.Time{})
	got, _ := claim(t, s, "kept")
	assert.Same(t, b, got)
}

// A file something else deleted leaves the index, with its count.
func TestAMissingFileLeavesTheIndex(t *testing.T) {
	t.Parallel()
	dir := tempdir.New(t)
	s := openWith(t, dir, 1<<20, spool.OS)
	b := put(t, s, "gone", 2, t0)
	require.NoError(t, os.Remove(filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq))))
	c, _, _ := s.Claim(t0)
	_, err := s.Read(c)
	require.ErrorIs(t, err, spool.ErrMissing)
	assert.Equal(t, spool.Stats{}, s.Stats())
}
