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
// creation time, item count), then the request body exactly as the
// exporter sent it.
package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	fileSuffix = ".track"
	tmpSuffix  = ".tmp"
	lockFile   = "lock"
	// maxHeader bounds the header line a file may start with.
	maxHeader = 64 << 10
	version   = 1
)

// ErrTooLarge is returned by Put for a request larger than the whole spool.
var ErrTooLarge = errors.New("request is larger than the spool's max_bytes")

// Encoding is the body's Content-Encoding: "" or "gzip".
func (b Batch) Encoding() string { return b.Header.Get("Content-Encoding") }

// ErrGone is returned by Replace for a batch no longer in the spool:
// evicted to make room while it was being delivered.
var ErrGone = errors.New("batch is no longer in the spool")

// Batch is one spooled track request.
type Batch struct {
	Seq     uint64
	URL     string
	Header  http.Header // the request's headers, to send again
	Created time.Time
	Items   int
	Size    int64 // bytes on disk
}

type header struct {
	Version int         `json:"v"`
	URL     string      `json:"url"`
	Header  http.Header `json:"header,omitempty"`
	Created time.Time   `json:"created"`
	Items   int         `json:"items"`
}

// Spool is a folder of batches, oldest first. It is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	lock     *os.File

	mu      sync.Mutex
	batches []Batch // in sequence order
	bytes   int64
	items   int64
	nextSeq uint64
	added   chan struct{} // closed and replaced when a batch is added
}

// Stats is what the spool holds.
type Stats struct {
	Bytes  int64
	Items  int64
	Oldest time.Time // zero when empty
}

// Open opens or creates the spool in dir, bounded to maxBytes on disk.
// It removes what a crash left half-written, and files it cannot read,
// whose names it returns.
func Open(dir string, maxBytes int64) (s *Spool, corrupt []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create spool folder: %w", err)
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
	s = &Spool{dir: dir, maxBytes: maxBytes, lock: l, nextSeq: 1, added: make(chan struct{})}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			// Never renamed into place: never answered as accepted.
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasSuffix(name, fileSuffix):
			seq, perr := strconv.ParseUint(strings.TrimSuffix(name, fileSuffix), 10, 64)
			b, rerr := s.readHeader(seq)
			if perr != nil || rerr != nil {
				corrupt = append(corrupt, name)
				_ = os.Remove(filepath.Join(dir, name))
				continue
			}
			s.batches = append(s.batches, b)
			s.bytes += b.Size
			s.items += int64(b.Items)
			s.nextSeq = max(s.nextSeq, seq+1)
		}
	}
	sort.Slice(s.batches, func(i, j int) bool { return s.batches[i].Seq < s.batches[j].Seq })
	return s, corrupt, nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, fileSuffix))
}

func (s *Spool) readHeader(seq uint64) (Batch, error) {
	f, err := os.Open(s.path(seq))
	if err != nil {
		return Batch{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Batch{}, err
	}
	h, _, err := readHeader(bufio.NewReader(io.LimitReader(f, maxHeader)))
	if err != nil {
		return Batch{}, err
	}
	return Batch{Seq: seq, URL: h.URL, Header: h.Header, Created: h.Created, Items: h.Items, Size: info.Size()}, nil
}

func readHeader(r *bufio.Reader) (header, int, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return header{}, 0, fmt.Errorf("read header: %w", err)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return header{}, 0, fmt.Errorf("parse header: %w", err)
	}
	if h.Version != version || h.URL == "" || h.Items < 0 {
		return header{}, 0, fmt.Errorf("unknown header %q", line)
	}
	return h, len(line), nil
}

// Put writes a request to disk and returns once it is durable. To make
// room it removes the oldest batches, which it returns.
func (s *Spool) Put(url string, hdr http.Header, body []byte, items int, now time.Time) (added Batch, evicted []Batch, err error) {
	h, err := json.Marshal(header{Version: version, URL: url, Header: hdr, Created: now, Items: items})
	if err != nil {
		return Batch{}, nil, err
	}
	size := int64(len(h) + 1 + len(body))
	if size > s.maxBytes {
		return Batch{}, nil, ErrTooLarge
	}

	// One writer at a time keeps sequence order and the byte count exact;
	// a track request arrives every second or so per exporter.
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.bytes+size > s.maxBytes && len(s.batches) > 0 {
		oldest := s.batches[0]
		if err := os.Remove(s.path(oldest.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Batch{}, evicted, fmt.Errorf("remove oldest batch: %w", err)
		}
		s.forget(0)
		evicted = append(evicted, oldest)
	}
	b := Batch{Seq: s.nextSeq, URL: url, Header: hdr, Created: now, Items: items, Size: size}
	if err := s.write(b.Seq, h, body); err != nil {
		return Batch{}, evicted, err
	}
	s.nextSeq++
	s.batches = append(s.batches, b)
	s.bytes += size
	s.items += int64(items)
	close(s.added)
	s.added = make(chan struct{})
	return b, evicted, nil
}

// write puts header and body durably at seq's path.
func (s *Spool) write(seq uint64, header, body []byte) (err error) {
	final := s.path(seq)
	tmp := final + tmpSuffix
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
	_, _ = w.Write(header)
	_ = w.WriteByte('\n')
	_, _ = w.Write(body)
	if err = w.Flush(); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	if err = os.Rename(tmp, final); err != nil {
		return fmt.Errorf("write spool file: %w", err)
	}
	return syncDir(s.dir)
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

// forget drops batches[i] from the index; called with mu held.
func (s *Spool) forget(i int) {
	s.bytes -= s.batches[i].Size
	s.items -= int64(s.batches[i].Items)
	s.batches = append(s.batches[:i], s.batches[i+1:]...)
}

func (s *Spool) index(seq uint64) int {
	for i, b := range s.batches {
		if b.Seq == seq {
			return i
		}
	}
	return -1
}

// Oldest returns the oldest batch, and a channel closed when a batch is
// added, to wait on when the spool is empty.
func (s *Spool) Oldest() (Batch, bool, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.batches) == 0 {
		return Batch{}, false, s.added
	}
	return s.batches[0], true, s.added
}

// Body reads a batch's request body.
func (s *Spool) Body(b Batch) ([]byte, error) {
	f, err := os.Open(s.path(b.Seq))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	if _, _, err := readHeader(r); err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Remove deletes a batch. It reports false when the batch was already
// gone, removed to make room while it was being delivered.
func (s *Spool) Remove(b Batch) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(b.Seq)
	if i < 0 {
		return false, nil
	}
	// Forgotten even if the file stays: this process must not send it
	// again and again; the next start may, once.
	s.forget(i)
	if err := os.Remove(s.path(b.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return true, err
	}
	return true, nil
}

// Replace rewrites a batch with a smaller body of items, keeping its
// place and creation time: what is left to deliver of it.
func (s *Spool) Replace(b Batch, body []byte, items int) (Batch, error) {
	h, err := json.Marshal(header{Version: version, URL: b.URL, Header: b.Header, Created: b.Created, Items: items})
	if err != nil {
		return b, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(b.Seq)
	if i < 0 {
		return b, ErrGone
	}
	if err := s.write(b.Seq, h, body); err != nil {
		return b, err
	}
	nb := b
	nb.Items, nb.Size = items, int64(len(h)+1+len(body))
	s.bytes += nb.Size - s.batches[i].Size
	s.items += int64(nb.Items - s.batches[i].Items)
	s.batches[i] = nb
	return nb, nil
}

// Close releases the folder for another process; the batches stay.
func (s *Spool) Close() error {
	return s.lock.Close()
}

// Stats returns what the spool holds now.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Bytes: s.bytes, Items: s.items}
	if len(s.batches) > 0 {
		st.Oldest = s.batches[0].Created
	}
	return st
}

// RemoveCreatedBefore removes the batches created before t and returns
// them: the spool's age bound.
func (s *Spool) RemoveCreatedBefore(t time.Time) ([]Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var removed []Batch
	for len(s.batches) > 0 && s.batches[0].Created.Before(t) {
		oldest := s.batches[0]
		if err := os.Remove(s.path(oldest.Seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
		s.forget(0)
		removed = append(removed, oldest)
	}
	return removed, nil
}
