// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultFS is the operating system's file system with faults: each hook,
// when set, runs before the operation and fails it with what it returns;
// afterWrite runs after a write that reached the folder.
type faultFS struct {
	mu                      sync.Mutex
	write, afterWrite, read func(path string) error
	remove                  func(path string) error
}

func (f *faultFS) hook(h *func(string) error) func(string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *h
}

func (f *faultFS) WriteFile(path string, data ...[]byte) error {
	if h := f.hook(&f.write); h != nil {
		if err := h(path); err != nil {
			return err
		}
	}
	if err := OS.WriteFile(path, data...); err != nil {
		return err
	}
	if h := f.hook(&f.afterWrite); h != nil {
		return h(path)
	}
	return nil
}

func (f *faultFS) ReadFile(path string) ([]byte, error) {
	if h := f.hook(&f.read); h != nil {
		if err := h(path); err != nil {
			return nil, err
		}
	}
	return OS.ReadFile(path)
}

func (f *faultFS) Remove(path string) error {
	if h := f.hook(&f.remove); h != nil {
		if err := h(path); err != nil {
			return err
		}
	}
	return OS.Remove(path)
}

func (f *faultFS) Rename(from, to string) error { return OS.Rename(from, to) }

// A disk that hangs holds only the goroutine that writes to it: Stats
// (the metrics scrape, Shutdown), Claim and Release go on.
func TestAHungDiskHoldsNoReader(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	entered := make(chan string, 4)
	fs := &faultFS{}
	s := openWith(t, t.TempDir(), 1<<20, fs)
	waiting := put(t, s, "waiting", 2, t0)
	fs.write = func(path string) error { entered <- path; <-hang; return nil }
	fs.remove = func(path string) error { entered <- path; <-hang; return nil }

	go func() { _, _, _ = s.Put(url, gzipHeader, []byte("stuck"), 1, t0) }()
	<-entered
	b, _, _ := s.Claim(t0)
	require.Same(t, waiting, b)
	go func() { _ = s.Remove(b) }()
	<-entered

	done := make(chan Stats)
	go func() { done <- s.Stats() }()
	select {
	case st := <-done:
		assert.Equal(t, int64(2*blockSize), st.Bytes, "the write under way and the file being removed take their room")
	case <-time.After(5 * time.Second):
		t.Fatal("Stats waited for a hung disk")
	}
	close(hang)
}

// A delivered request whose file cannot be deleted still takes its room
// until a later try deletes it.
func TestAFileThatCannotBeRemovedStaysCounted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := &faultFS{}
	s := openWith(t, dir, 1<<20, fs)
	put(t, s, "delivered", 3, t0)
	b, _ := claim(t, s, "delivered")
	fs.remove = func(string) error { return &os.PathError{Op: "remove", Err: syscall.EACCES} }
	require.ErrorIs(t, s.Remove(b), syscall.EACCES)
	assert.Equal(t, Stats{Bytes: blockSize}, s.Stats(), "its items are gone, its bytes are not")

	fs.remove = nil
	put(t, s, "next", 1, t0)
	assert.Equal(t, int64(blockSize), s.Stats().Bytes, "the next write deleted the file")
	_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq)))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A read error that may pass (too many open files, EIO, a permission) is
// not corruption: the file stays where it is, and in the index.
func TestATransientReadErrorKeepsTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fs := &faultFS{}
	s := openWith(t, dir, 1<<20, fs)
	b := put(t, s, "kept", 2, t0)
	fs.read = func(string) error { return &os.PathError{Op: "open", Err: syscall.EMFILE} }
	c, _, _ := s.Claim(t0)
	_, err := s.Read(c)
	require.ErrorIs(t, err, syscall.EMFILE)
	assert.False(t, errors.Is(err, ErrCorrupt))
	assert.Equal(t, Stats{Bytes: blockSize, Items: 2, Requests: 1, Oldest: t0}, s.Stats())
	_, err = os.Stat(filepath.Join(dir, QuarantineDir))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing quarantined")

	fs.read = nil
	s.Release(c, time.Time{})
	got, _ := claim(t, s, "kept")
	assert.Same(t, b, got)
}

// A file something else deleted leaves the index, with its count.
func TestAMissingFileLeavesTheIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, 1<<20)
	b := put(t, s, "gone", 2, t0)
	require.NoError(t, os.Remove(filepath.Join(dir, fmt.Sprintf("%020d.track", b.Seq))))
	c, _, _ := s.Claim(t0)
	_, err := s.Read(c)
	require.ErrorIs(t, err, ErrMissing)
	assert.Equal(t, Stats{}, s.Stats())
}
