// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package spool keeps track requests on disk until Application Insights
// has taken them. Each request is one file, written to a temporary name,
// fsync'd, renamed into place and its folder fsync'd: once Put returns,
// the request survives a crash of the process or the machine. Files are
// named by a sequence number, so a folder replays in the order its
// requests arrived.
//
// File layout: one JSON header line (target URL, request headers,
// creation time, item count, the body's CRC-32C), then the request body
// exactly as the exporter sent it. A file whose header cannot be read, or
// whose body does not match its checksum, is moved to the quarantine
// folder, never deleted.
//
// Several deliverers work on one spool at once: Claim hands each the
// oldest request nobody holds and whose own backoff has passed, and a
// claimed request is never evicted.
package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

import (
	"bufio"
	"bytes"
	"container/list"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
	// MaxHeader bounds the header line a file starts with; Put refuses a
	// request whose header would be longer.
	MaxHeader = 64 << 10
	version   = 2
	// blockSize is what a file takes on disk at least, and the unit it
	// grows by on the usual filesystems (ext4, xfs, overlayfs): max_bytes
	// counts files rounded up to it, so that it bounds the disk, not the
	// sum of file lengths.
	blockSize = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrTooLarge is returned by Put for a request larger than the whole
	// spool.
	ErrTooLarge = errors.New("request is larger than the spool's max_bytes")
	// ErrHeaderTooLarge is returned by Put for headers that would not fit
	// the header line.
	ErrHeaderTooLarge = fmt.Errorf("request headers over %d bytes", MaxHeader)
	// ErrFull is returned by Put when every request in the spool is being
	// delivered, so none can make room.
	ErrFull = errors.New("spool is full and every request in it is being delivered")
	// ErrCorrupt is returned by Read for a file that does not hold what was
	// written: the file is in quarantine by then.
	ErrCorrupt = errors.New("spool file is corrupt")
)

// Batch is one spooled track request. Its exported fields are read-only.
type Batch struct {
	Seq     uint64
	Created time.Time
	Items   int
	// Size is what the file takes on disk, in whole blocks.
	Size int64

	elem      *list.Element
	claimed   bool
	notBefore time.Time
}

// Request is what a batch's file holds.
type Request struct {
	URL    string
	Header http.Header
	Body   []byte
}

// Encoding is the body's Content-Encoding: "" or "gzip".
func (r Request) Encoding() string { return r.Header.Get("Content-Encoding") }

type header struct {
	Version int         `json:"v"`
	URL     string      `json:"url"`
	Header  http.Header `json:"header,omitempty"`
	Created time.Time   `json:"created"`
	Items   int         `json:"items"`
	CRC     uint32      `json:"crc32c"`
	Length  int         `json:"length"`
}

// Spool is a folder of batches. It is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	lock     *os.File
	// writeFile writes a file durably; tests replace it to fail a write.
	writeFile func(path string, data ...[]byte) error

	mu sync.Mutex
	// batches holds *Batch in sequence order: removal from the middle
	// copies nothing, and the index holds no URL or headers (they are
	// read from the file when a batch is sent).
	batches list.List
	bytes   int64
	items   int64
	nextSeq uint64
	// changed is closed and replaced when a batch is added or released.
	changed chan struct{}
}

// Stats is what the spool holds.
type Stats struct {
	Bytes    int64
	Items    int64
	Requests int
	Oldest   time.Time // zero when empty
}

// Open opens or creates the spool in dir, bounded to maxBytes on disk.
// It removes what a crash left half-written (never answered as accepted),
// and moves files it cannot read to the quarantine folder; it returns
// their names.
func Open(dir string, maxBytes int64) (s *Spool, quarantined []string, err error) {
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
	s = &Spool{dir: dir, maxBytes: maxBytes, lock: l, nextSeq: 1, changed: make(chan struct{}), writeFile: writeDurably}
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
				if qerr := s.quarantineFile(name); qerr != nil {
					_ = l.Close()
					return nil, quarantined, qerr
				}
				quarantined = append(quarantined, name)
				continue
			}
			found = append(found, b)
			s.nextSeq = max(s.nextSeq, seq+1)
		}
	}
	slices.SortFunc(found, func(a, b *Batch) int { return compareSeq(a.Seq, b.Seq) })
	for _, b := range found {
		s.insert(b, nil)
	}
	return s, quarantined, nil
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, fileSuffix))
}

// onDisk is what a file of n bytes takes on disk.
func onDisk(n int) int64 {
	return (int64(n) + blockSize - 1) / blockSize * blockSize
}

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
	// A torn write cannot be renamed into place, but a disk can lose the
	// end of a file: the length says so without reading the body.
	if int64(n+h.Length) != info.Size() {
		return nil, fmt.Errorf("%d bytes, header says %d", info.Size(), n+h.Length)
	}
	return &Batch{Seq: seq, Created: h.Created, Items: h.Items, Size: onDisk(int(info.Size()))}, nil
}

func readHeader(r *bufio.Reader) (header, int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return header{}, 0, fmt.Errorf("read header: %w", err)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return header{}, 0, fmt.Errorf("parse header: %w", err)
	}
	if h.Version != version || h.URL == "" || h.Items < 0 || h.Length < 0 {
		return header{}, 0, fmt.Errorf("unknown header %.200q", line)
	}
	return h, len(line), nil
}

// insert adds b to the index after mark, or at the end; mu held or not yet
// shared.
func (s *Spool) insert(b *Batch, mark *list.Element) {
	if mark != nil {
		b.elem = s.batches.InsertAfter(b, mark)
	} else {
		b.elem = s.batches.PushBack(b)
	}
	s.bytes += b.Size
	s.items += int64(b.Items)
}

// forget drops b from the index; called with mu held.
func (s *Spool) forget(b *Batch) {
	s.batches.Remove(b.elem)
	b.elem = nil
	s.bytes -= b.Size
	s.items -= int64(b.Items)
}

func (s *Spool) wake() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func encodeFile(url string, hdr http.Header, created time.Time, items int, body []byte) ([]byte, error) {
	h, err := json.Marshal(header{
		Version: version, URL: url, Header: hdr, Created: created, Items: items,
		CRC: crc32.Checksum(body, castagnoli), Length: len(body),
	})
	if err != nil {
		return nil, err
	}
	if len(h)+1 > MaxHeader {
		return nil, ErrHeaderTooLarge
	}
	return append(h, '\n'), nil
}

// Put writes a request to disk and returns once it is durable. To make
// room it removes the oldest batches nobody is delivering, which it
// returns; so it does when the disk is full, once, before it gives up.
func (s *Spool) Put(url string, hdr http.Header, body []byte, items int, now time.Time) (added *Batch, evicted []Batch, err error) {
	h, err := encodeFile(url, hdr, now, items, body)
	if err != nil {
		return nil, nil, err
	}
	size := onDisk(len(h) + len(body))
	if size > s.maxBytes {
		return nil, nil, ErrTooLarge
	}

	// One writer at a time keeps sequence order and the byte count exact;
	// a track request arrives every second or so per exporter.
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.bytes+size > s.maxBytes {
		b, err := s.evictOldest()
		if err != nil {
			return nil, evicted, err
		}
		evicted = append(evicted, b)
	}
	b := &Batch{Seq: s.nextSeq, Created: now, Items: items, Size: size}
	err = s.writeFile(s.path(b.Seq), h, body)
	if errors.Is(err, syscall.ENOSPC) {
		// The disk is fuller than max_bytes knows: make room once more.
		if old, eerr := s.evictOldest(); eerr == nil {
			evicted = append(evicted, old)
			err = s.writeFile(s.path(b.Seq), h, body)
		}
	}
	if err != nil {
		return nil, evicted, err
	}
	s.nextSeq++
	s.insert(b, nil)
	s.wake()
	return b, evicted, nil
}

// evictOldest removes the oldest batch nobody is delivering; mu held.
func (s *Spool) evictOldest() (Batch, error) {
	for e := s.batches.Front(); e != nil; e = e.Next() {
		b := e.Value.(*Batch)
		if b.claimed {
			continue
		}
		if err := os.Remove(s.path(b.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Batch{}, fmt.Errorf("remove oldest batch: %w", err)
		}
		s.forget(b)
		return *b, nil
	}
	return Batch{}, ErrFull
}

// writeDurably writes data to a temporary file, fsyncs it, renames it to
// path and fsyncs the folder.
func writeDurably(path string, data ...[]byte) (err error) {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	for _, d := range data {
		_, _ = w.Write(d)
	}
	if err = w.Flush(); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync spool folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync spool folder: %w", err)
	}
	return nil
}

// Claim hands out the oldest batch that nobody is delivering and whose
// backoff has passed by now. When there is none, it returns when the next
// one will be ready (zero when none waits) and a channel closed when a
// batch is added or released.
func (s *Spool) Claim(now time.Time) (b *Batch, next time.Time, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := s.batches.Front(); e != nil; e = e.Next() {
		c := e.Value.(*Batch)
		if c.claimed {
			continue
		}
		if c.notBefore.After(now) {
			if next.IsZero() || c.notBefore.Before(next) {
				next = c.notBefore
			}
			continue
		}
		c.claimed = true
		return c, time.Time{}, s.changed
	}
	return nil, next, s.changed
}

// Release gives a claimed batch back, to be delivered again from
// notBefore on.
func (s *Spool) Release(b *Batch, notBefore time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.claimed, b.notBefore = false, notBefore
	s.wake()
}

// Read reads a batch's request. A file that does not match its checksum
// is moved to quarantine and ErrCorrupt returned.
func (s *Spool) Read(b *Batch) (Request, error) {
	data, err := os.ReadFile(s.path(b.Seq))
	if err != nil {
		return Request{}, err
	}
	r := bufio.NewReader(bytes.NewReader(data))
	h, n, err := readHeader(r)
	if err == nil && (len(data)-n != h.Length || crc32.Checksum(data[n:], castagnoli) != h.CRC) {
		err = errors.New("body does not match its checksum")
	}
	if err != nil {
		name := filepath.Base(s.path(b.Seq))
		s.mu.Lock()
		if b.elem != nil {
			s.forget(b)
		}
		qerr := s.quarantineFile(name)
		s.mu.Unlock()
		return Request{}, errors.Join(fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err), qerr)
	}
	return Request{URL: h.URL, Header: h.Header, Body: data[n:]}, nil
}

// quarantineFile moves a file of the spool folder to the quarantine
// folder.
func (s *Spool) quarantineFile(name string) error {
	q := filepath.Join(s.dir, QuarantineDir)
	if err := os.MkdirAll(q, 0o700); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	if err := os.Rename(filepath.Join(s.dir, name), filepath.Join(q, name)); err != nil {
		return fmt.Errorf("quarantine %s: %w", name, err)
	}
	return nil
}

// Remove deletes a batch the caller has claimed.
func (s *Spool) Remove(b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.elem == nil {
		return nil // quarantined by Read
	}
	// Forgotten even if the file stays: this process must not send it
	// again and again; the next start may, once.
	s.forget(b)
	if err := os.Remove(s.path(b.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Replace rewrites a claimed batch with what is left to deliver of it,
// keeping its place and creation time.
func (s *Spool) Replace(b *Batch, req Request, body []byte, items int) error {
	h, err := encodeFile(req.URL, req.Header, b.Created, items, body)
	if err != nil {
		return err
	}
	if err := s.writeFile(s.path(b.Seq), h, body); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size := onDisk(len(h) + len(body))
	s.bytes += size - b.Size
	s.items += int64(items - b.Items)
	b.Items, b.Size = items, size
	return nil
}

// Split rewrites a claimed batch as two: the first part in its place, the
// second right after it, both with its creation time. Ingestion refused
// the whole request as too large.
func (s *Spool) Split(b *Batch, req Request, first, second []byte, firstItems, secondItems int) error {
	h2, err := encodeFile(req.URL, req.Header, b.Created, secondItems, second)
	if err != nil {
		return err
	}
	s.mu.Lock()
	seq := s.nextSeq
	s.nextSeq++
	s.mu.Unlock()
	if err := s.writeFile(s.path(seq), h2, second); err != nil {
		return err
	}
	if err := s.Replace(b, req, first, firstItems); err != nil {
		// The second part is on disk and will be delivered after a
		// restart; the whole batch stays too: duplicates, not losses.
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insert(&Batch{Seq: seq, Created: b.Created, Items: secondItems, Size: onDisk(len(h2) + len(second))}, b.elem)
	s.wake()
	return nil
}

// Close releases the folder for another process; the batches stay. It
// takes no lock the spool's writers hold, so a hung disk cannot hold it.
func (s *Spool) Close() error {
	return s.lock.Close()
}

// Stats returns what the spool holds now.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Bytes: s.bytes, Items: s.items, Requests: s.batches.Len()}
	if e := s.batches.Front(); e != nil {
		st.Oldest = e.Value.(*Batch).Created
	}
	return st
}

// ClaimCreatedBefore claims the batches created before t that nobody is
// delivering, and returns them: the spool's age bound. The caller removes
// them.
func (s *Spool) ClaimCreatedBefore(t time.Time) []*Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old []*Batch
	for e := s.batches.Front(); e != nil; e = e.Next() {
		b := e.Value.(*Batch)
		if !b.Created.Before(t) {
			// Batches are in arrival order; split ones keep their
			// creation time and place, so the first young one ends it.
			break
		}
		if !b.claimed {
			b.claimed = true
			old = append(old, b)
		}
	}
	return old
}
