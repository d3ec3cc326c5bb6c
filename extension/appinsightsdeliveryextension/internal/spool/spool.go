// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package spool keeps track requests on disk until Application Insights
// has taken them. Each request is one file, written durably (durable.go)
// before Put returns: once it has, the request survives a crash of the
// process or the machine.
//
// The package's files each hold one thing: format.go the file format,
// durable.go and durable_*.go the file operations, index.go the in-memory
// index and its accounting, and this file the Spool, which joins them by
// one rule: disk I/O happens outside the mutex, the index changes only
// under it. A write reserves its sequence number and its bytes under the
// lock, writes without it, and commits under it again.
//
// Several deliverers work on one spool at once: Claim hands each the
// oldest request nobody holds and whose own backoff has passed, and a
// claimed request is never evicted. A file whose header cannot be read,
// or whose body does not match its length and checksum, is moved to the
// quarantine folder, never deleted.
package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	fileSuffix = ".track"
	tmpSuffix  = ".tmp"
	lockFile   = "lock"
	// QuarantineDir is the subfolder unreadable files are moved to.
	QuarantineDir = "quarantine"
)

var (
	// ErrMissing is returned by Read for a batch whose file is gone:
	// something other than the spool deleted it.
	ErrMissing = errors.New("spool file is missing")
	errLocked  = errors.New("another collector is using this spool folder; give each collector its own")
)

// Spool is a folder of batches. It is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	lock     *os.File
	fs       FileSystem

	mu  sync.Mutex
	idx index
}

// Option changes how Open opens a spool.
type Option func(*Spool)

// WithFileSystem makes the spool work on its files through fs; tests use
// it to fail or block the disk.
func WithFileSystem(fs FileSystem) Option { return func(s *Spool) { s.fs = fs } }

// Open opens or creates the spool in dir, bounded to maxBytes on disk.
// It removes what a crash left half-written (never answered as accepted),
// and moves files it cannot read to the quarantine folder; it returns
// their names.
func Open(dir string, maxBytes int64, opts ...Option) (s *Spool, quarantined []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create spool folder: %w", err)
	}
	// The folder holds every envelope with its instrumentation key: only
	// the collector's user may read it, whoever created it.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("restrict spool folder: %w", err)
	}
	l, err := lock(dir)
	if err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		_ = l.Close()
		return nil, nil, fmt.Errorf("read spool folder: %w", err)
	}
	s = &Spool{dir: dir, maxBytes: maxBytes, lock: l, fs: OS, idx: newIndex()}
	for _, o := range opts {
		o(s)
	}
	var found []*Batch
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasSuffix(name, tmpSuffix):
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, fileSuffix):
			seq, perr := strconv.ParseUint(strings.TrimSuffix(name, fileSuffix), 10, 64)
			var b *Batch
			var rerr error
			if perr == nil {
				b, rerr = s.readIndexEntry(seq)
			}
			if perr != nil || rerr != nil {
				if qerr := s.quarantine(name); qerr != nil {
					_ = l.Close()
					return nil, quarantined, qerr
				}
				quarantined = append(quarantined, name)
				continue
			}
			found = append(found, b)
			s.idx.nextSeq = max(s.idx.nextSeq, seq+1)
		}
	}
	// Age order, not name order: the second half of a split request has
	// a newer number than requests younger than it.
	slices.SortFunc(found, func(a, b *Batch) int {
		if older(a, b) {
			return -1
		}
		return 1
	})
	for _, b := range found {
		s.idx.bytes += b.Size
		s.idx.add(b)
	}
	return s, quarantined, nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, fileSuffix))
}

// readIndexEntry reads what the index needs of a file: its header, and its
// length, which tells a disk that lost the file's end without reading the
// body.
func (s *Spool) readIndexEntry(seq uint64) (*Batch, error) {
	f, err := os.Open(s.path(seq))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, n, err := readHeader(bufio.NewReader(io.LimitReader(f, MaxHeader+1)))
	if err != nil {
		return nil, err
	}
	if int64(n+h.Length) != info.Size() {
		return nil, fmt.Errorf("%d bytes, header says %d", info.Size(), n+h.Length)
	}
	return &Batch{Seq: seq, Created: h.Created, Items: h.Items, Size: onDisk(int(info.Size()))}, nil
}

// Put writes a request to disk and returns once it is durable. To make
// room it evicts the oldest batches nobody is delivering, which it
// returns; so it does when the disk is full, once, before it gives up.
func (s *Spool) Put(url string, hdr http.Header, body []byte, items int, now time.Time) (added *Batch, evicted []*Batch, err error) {
	h, err := encodeHeader(url, hdr, now, items, body)
	if err != nil {
		return nil, nil, err
	}
	size := onDisk(len(h) + len(body))
	if size > s.maxBytes {
		return nil, nil, ErrTooLarge
	}
	s.removeUnremoved()

	s.mu.Lock()
	seq := s.idx.reserveSeq()
	evicted, err = s.idx.evict(size, s.maxBytes)
	if err == nil {
		s.idx.bytes += size
	}
	s.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	s.removeFiles(evicted)

	err = s.fs.WriteFile(s.path(seq), h, body)
	if errors.Is(err, syscall.ENOSPC) {
		// The disk is fuller than max_bytes knows: make room once more.
		if victim := s.evictOne(); victim != nil {
			evicted = append(evicted, victim)
			err = s.fs.WriteFile(s.path(seq), h, body)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.idx.bytes -= size
		return nil, evicted, err
	}
	b := &Batch{Seq: seq, Created: now, Items: items, Size: size}
	s.idx.add(b)
	s.idx.wake()
	return b, evicted, nil
}

// evictOne evicts the oldest batch nobody is delivering, if any, and
// deletes its file.
func (s *Spool) evictOne() *Batch {
	s.mu.Lock()
	victim := s.idx.evictOldest()
	s.mu.Unlock()
	if victim != nil {
		s.removeFiles([]*Batch{victim})
	}
	return victim
}

// removeFiles deletes the files of evicted batches, whose bytes are no
// longer counted; a file that stays is counted again until it goes.
func (s *Spool) removeFiles(evicted []*Batch) {
	for _, b := range evicted {
		if err := s.fs.Remove(s.path(b.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.mu.Lock()
			s.idx.bytes += b.Size
			s.idx.unremoved = append(s.idx.unremoved, b)
			s.mu.Unlock()
		}
	}
}

// removeUnremoved tries again to delete the files that could not be
// deleted before.
func (s *Spool) removeUnremoved() {
	s.mu.Lock()
	pending := s.idx.unremoved
	s.idx.unremoved = nil
	s.mu.Unlock()
	for _, b := range pending {
		err := s.fs.Remove(s.path(b.Seq))
		s.mu.Lock()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			s.idx.unremoved = append(s.idx.unremoved, b)
		} else {
			s.idx.gone(b)
		}
		s.mu.Unlock()
	}
}

// Claim hands out the oldest batch that nobody is delivering and whose
// backoff has passed by now. When there is none, it returns when the next
// one will be ready (zero when none waits) and a channel closed when a
// batch is added or released.
func (s *Spool) Claim(now time.Time) (b *Batch, next time.Time, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, next = s.idx.claim(now)
	return b, next, s.idx.changed
}

// ClaimCreatedBefore claims the batches created before t that nobody is
// delivering, and returns them: the spool's age bound. The caller settles
// them.
func (s *Spool) ClaimCreatedBefore(t time.Time) []*Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.claimCreatedBefore(t)
}

// Release gives a claimed batch back, to be delivered again from
// notBefore on.
func (s *Spool) Release(b *Batch, notBefore time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idx.release(b, notBefore)
}

// Read reads a claimed batch's request. A file that does not hold what
// was written is moved to quarantine and ErrCorrupt returned; a file that
// is gone returns ErrMissing; both leave the index. Any other error (too
// many open files, an I/O error, a permission) may pass: the batch stays,
// claimed, for the caller to release.
func (s *Spool) Read(b *Batch) (Request, error) {
	data, err := s.fs.ReadFile(s.path(b.Seq))
	if errors.Is(err, os.ErrNotExist) {
		s.mu.Lock()
		if s.idx.detach(b) {
			s.idx.gone(b)
		}
		s.mu.Unlock()
		return Request{}, fmt.Errorf("%w: %w", ErrMissing, err)
	}
	if err != nil {
		return Request{}, fmt.Errorf("read spool file: %w", err)
	}
	_, req, err := decodeFile(data)
	if err != nil {
		name := filepath.Base(s.path(b.Seq))
		qerr := s.quarantine(name)
		s.mu.Lock()
		if s.idx.detach(b) {
			s.idx.gone(b)
		}
		s.mu.Unlock()
		return Request{}, errors.Join(fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err), qerr)
	}
	return req, nil
}

// quarantine moves a file of the spool folder to the quarantine folder.
func (s *Spool) quarantine(name string) error {
	q := filepath.Join(s.dir, QuarantineDir)
	if err := os.MkdirAll(q, 0o700); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	fs := s.fs
	if fs == nil {
		fs = OS // while Open reads the folder
	}
	if err := fs.Rename(filepath.Join(s.dir, name), filepath.Join(q, name)); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	return nil
}

// Remove deletes a batch the caller has claimed. Its items leave the
// spool at once; when the file cannot be deleted, its bytes stay counted
// until a later try deletes it (and a restart before then sends it once
// more).
func (s *Spool) Remove(b *Batch) error {
	s.mu.Lock()
	inList := s.idx.detach(b)
	s.mu.Unlock()
	if !inList {
		return nil // quarantined or missing, out of the index already
	}
	err := s.fs.Remove(s.path(b.Seq))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.idx.unremoved = append(s.idx.unremoved, b)
		return fmt.Errorf("remove spool file: %w", err)
	}
	s.idx.gone(b)
	return nil
}

// Replace rewrites a claimed batch with what is left to deliver of it,
// keeping its place and creation time.
func (s *Spool) Replace(b *Batch, req Request, body []byte, items int) error {
	h, err := encodeHeader(req.URL, req.Header, b.Created, items, body)
	if err != nil {
		return err
	}
	if err := s.fs.WriteFile(s.path(b.Seq), h, body); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size := onDisk(len(h) + len(body))
	s.idx.bytes += size - b.Size
	if b.elem != nil {
		s.idx.items += int64(items - b.Unsettled())
	}
	b.Items, b.Size, b.settled = items, size, nil
	return nil
}

// Settle notes that items of a claimed batch (by index in its file) have
// left the spool's accounting, delivered or dead-lettered, while its file
// could not be rewritten without them: they no longer count as waiting,
// and the caller does not count them again when the file is sent again.
func (s *Spool) Settle(b *Batch, items []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := b.Unsettled()
	for _, i := range items {
		if i >= 0 && i < b.Items {
			if b.settled == nil {
				b.settled = make(map[int]bool)
			}
			b.settled[i] = true
		}
	}
	if b.elem != nil {
		s.idx.items -= int64(before - b.Unsettled())
	}
}

// Split rewrites a claimed batch as two: the first part in its place, the
// second right after it, both with its creation time. Ingestion refused
// the whole request as too large.
func (s *Spool) Split(b *Batch, req Request, first, second []byte, firstItems, secondItems int) error {
	h2, err := encodeHeader(req.URL, req.Header, b.Created, secondItems, second)
	if err != nil {
		return err
	}
	size2 := onDisk(len(h2) + len(second))
	s.mu.Lock()
	seq := s.idx.reserveSeq()
	s.idx.bytes += size2
	s.mu.Unlock()
	err = s.fs.WriteFile(s.path(seq), h2, second)
	if err == nil {
		err = s.Replace(b, req, first, firstItems)
		if err != nil {
			// The second part is on disk; the whole batch stays too.
			// Remove the part, or a restart sends its items twice.
			if rerr := s.fs.Remove(s.path(seq)); rerr == nil {
				s.mu.Lock()
				s.idx.bytes -= size2
				s.mu.Unlock()
			} else {
				s.mu.Lock()
				s.idx.unremoved = append(s.idx.unremoved, &Batch{Seq: seq, Size: size2})
				s.mu.Unlock()
			}
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.idx.bytes -= size2
		return err
	}
	s.idx.addAfter(&Batch{Seq: seq, Created: b.Created, Items: secondItems, Size: size2}, b)
	s.idx.wake()
	return nil
}

// Close releases the folder for another process; the batches stay. It
// takes no lock the spool's writers hold, so a hung disk cannot hold it.
func (s *Spool) Close() error {
	return s.lock.Close()
}

// Stats returns what the spool holds now. It never waits for a disk.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.stats()
}
