// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// EnvelopesFile is the file of the local ingestion endpoint's store that
// the tables are read from (ingestion.EnvelopesFile).
const EnvelopesFile = "envelopes.jsonl"

// IndexDir is the folder, next to the envelopes file, of the sealed
// extents: the envelopes column by column, for queries that read only
// the columns they name (docs/design.md). The envelopes file stays as
// the ingestion endpoint wrote it; the index can be deleted at any time
// and is built again.
const IndexDir = "index"

// Sealing: rows are kept in memory until a table has sealRows of them,
// or a refresh ends with at least minSealRows, and are then written as
// an extent.
var (
	sealRows    = 65536
	minSealRows = 8192
)

// Store is the Application Insights tables of a store folder: the sealed
// extents of its index, and the envelopes appended since, read into
// memory. A query runs over the rows there were when it started.
type Store struct {
	dir, path string

	mu       sync.RWMutex
	manifest manifest            // the sealed extents this store reads
	memory   map[string]*segment // by envelope type: Message, Exception, ...
	offset   int64               // bytes of the envelopes file read, up to a line's end
	head     string              // the file's identity (fileHead), once read
	skipped  int                 // lines no table takes, or not JSON
	// broken is set by a query that could not read an extent: the next
	// refresh reads the envelopes again, and rebuild makes the next seal
	// start a new index (under the lock) rather than take the damaged one.
	broken  atomic.Bool
	rebuild bool
	// noIndex keeps every row in memory and writes no index (tests
	// compare the two).
	noIndex bool
}

// manifest is index/manifest.json: which extents hold which bytes of
// which envelopes file.
type manifest struct {
	Version int           `json:"version"`
	Offset  int64         `json:"offset"` // bytes of the envelopes file the extents hold
	Head    string        `json:"head"`   // fileHead of that file
	Extents []extentEntry `json:"extents"`
}

type extentEntry struct {
	Name   string                 `json:"name"`
	Tables map[string]extentTable `json:"tables"`
}

const manifestVersion = 2

// Open is the store of a folder; its envelopes file need not exist yet.
func Open(dir string) *Store {
	s := &Store{dir: dir, path: filepath.Join(dir, EnvelopesFile)}
	s.reset()
	s.adopt(s.readManifest(s.fileHead()))
	return s
}

func (s *Store) reset() {
	s.offset, s.skipped, s.head = 0, 0, ""
	s.manifest = manifest{Version: manifestVersion}
	s.newMemory()
}

func (s *Store) newMemory() {
	s.memory = map[string]*segment{}
	for i := range schemas {
		s.memory[schemas[i].envelope] = newSegment(&schemas[i])
	}
}

func (s *Store) indexDir() string { return filepath.Join(s.dir, IndexDir) }

// fileHead identifies the envelopes file by its first line.
func (s *Store) fileHead() string {
	f, err := os.Open(s.path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, buf)
	i := bytes.IndexByte(buf[:n], '\n')
	switch {
	case i >= 0:
	case n == len(buf):
		i = n // a first line longer than the buffer: its start
	default:
		return "" // no whole line yet
	}
	sum := sha256.Sum256(buf[:i])
	return hex.EncodeToString(sum[:])
}

// readManifest is the index's manifest when it is of the envelopes file
// as it is now (head is its fileHead); else nil.
func (s *Store) readManifest(head string) *manifest {
	raw, err := os.ReadFile(filepath.Join(s.indexDir(), "manifest.json"))
	if err != nil {
		return nil
	}
	var m manifest
	if json.Unmarshal(raw, &m) != nil || m.Version != manifestVersion || m.Head == "" {
		return nil
	}
	info, err := os.Stat(s.path)
	if err != nil || info.Size() < m.Offset || m.Head != head {
		return nil
	}
	return &m
}

// manifestOfOtherVersion reports an index written by another build of
// this store (another manifest version), which this one leaves alone.
func (s *Store) manifestOfOtherVersion() bool {
	raw, err := os.ReadFile(filepath.Join(s.indexDir(), "manifest.json"))
	if err != nil {
		return false
	}
	var v struct {
		Version int `json:"version"`
	}
	return json.Unmarshal(raw, &v) == nil && v.Version != 0 && v.Version != manifestVersion
}

// adopt takes a manifest that holds more of the file than this store has
// sealed (another process sealed it): its extents, and the lines after
// them, read again.
func (s *Store) adopt(m *manifest) bool {
	if m == nil || m.Offset <= s.manifest.Offset {
		return false
	}
	s.manifest = *m
	s.offset, s.head = m.Offset, m.Head
	s.newMemory()
	return true
}

// refresh reads what was appended to the envelopes file since the last
// read, and seals what it can.
func (s *Store) refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken.Swap(false) {
		// An extent could not be read: read the envelopes again, and
		// build the index again at the next seal, under its lock.
		s.reset()
		s.rebuild = true
	}
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.reset()
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the envelopes file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	head := s.fileHead()
	if info.Size() < s.offset || (s.offset > 0 && s.head != head) {
		s.reset() // another file: read it from the start
	}
	if !s.noIndex && !s.rebuild {
		s.adopt(s.readManifest(head))
	}
	if info.Size() > s.offset {
		if err := s.readFrom(f); err != nil {
			return err
		}
	}
	if s.memoryRows() >= minSealRows && !s.noIndex && s.seal() {
		// Another index was taken, or this one was lost: read on from
		// where the store now is.
		return s.readFrom(f)
	}
	return nil
}

func (s *Store) readFrom(f *os.File) error {
	chunk := make([]byte, 4<<20)
	var carry []byte
	for {
		n, err := f.ReadAt(chunk, s.offset+int64(len(carry)))
		buf := append(carry, chunk[:n]...)
		// Whole lines only: a line being written is read next time.
		if end := bytes.LastIndexByte(buf, '\n'); end >= 0 {
			if s.offset == 0 {
				s.head = s.fileHead()
			}
			s.addLines(buf[:end+1])
			s.offset += int64(end + 1)
			carry = append([]byte(nil), buf[end+1:]...)
			if s.memoryRows() >= sealRows && !s.noIndex && s.seal() {
				// Another process's index was taken, or this one's was
				// lost: read on from where the store now is.
				carry = nil
				continue
			}
		} else {
			carry = buf
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the envelopes file: %w", err)
		}
	}
}

// addLines decodes whole lines on every core, then adds them in order.
func (s *Store) addLines(lines []byte) {
	var starts []int
	for i := 0; i < len(lines); {
		starts = append(starts, i)
		j := bytes.IndexByte(lines[i:], '\n')
		i += j + 1
	}
	envelopes := make([]envelope, len(starts))
	ok := make([]bool, len(starts))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := w; k < len(starts); k += workers {
				line := lines[starts[k]:]
				line = line[:bytes.IndexByte(line, '\n')]
				ok[k] = json.Unmarshal(line, &envelopes[k]) == nil && envelopes[k].Name != ""
			}
		}(w)
	}
	wg.Wait()
	for k := range envelopes {
		if !ok[k] {
			s.skipped++
			continue
		}
		if seg, found := s.memory[envelopes[k].itemType()]; found {
			seg.add(&envelopes[k], s.offset+int64(starts[k]))
		} else {
			s.skipped++
		}
	}
}

func (s *Store) memoryRows() int {
	n := 0
	for _, seg := range s.memory {
		n += seg.n
	}
	return n
}

// seal writes the rows in memory as a new extent, and the manifest that
// names it, one process at a time (a lock file). When another process
// has sealed more of the file meanwhile, this store takes that index
// instead, and reports so: its reader goes on from the index's end. A
// seal that fails leaves the rows in memory: the index is only a copy.
func (s *Store) seal() (adopted bool) {
	index := s.indexDir()
	if err := os.MkdirAll(index, 0o700); err != nil {
		return false
	}
	lock := filepath.Join(index, "seal.lock")
	lf, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		// A lock older than any seal takes is a crashed sealer's.
		if info, serr := os.Stat(lock); serr == nil && time.Since(info.ModTime()) > 10*time.Minute {
			_ = os.Remove(lock)
		}
		return false
	}
	defer func() {
		// Only this sealer's lock: a stale one taken over is another's.
		if mine, err := lf.Stat(); err == nil {
			if now, err := os.Stat(lock); err == nil && os.SameFile(mine, now) {
				_ = os.Remove(lock)
			}
		}
		_ = lf.Close()
	}()

	disk, otherVersion := s.readManifest(s.head), s.manifestOfOtherVersion()
	switch {
	case otherVersion:
		return false // another build's index: leave it be
	case s.rebuild:
		if s.manifest.Offset > 0 {
			return false
		}
		s.rebuild = false // start a new index, below
	case disk != nil && disk.Offset > s.manifest.Offset:
		s.adopt(disk) // another process sealed more: take it
		return true
	case disk == nil && s.manifest.Offset > 0, disk != nil && disk.Offset < s.manifest.Offset:
		// This store's extents are no longer the index (deleted, or
		// rebuilt by another process): read the file again.
		s.reset()
		s.adopt(disk)
		return true
	}
	m := s.manifest
	if s.manifest.Offset == 0 {
		// The rows in memory are the file from its start: a new index.
		m = manifest{Version: manifestVersion, Head: s.head}
	}
	s.removeUnnamed(m)

	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	name := fmt.Sprintf("extent-%016x-%x", s.offset, suffix)
	tmp := filepath.Join(index, name+".tmp")
	tables := map[string]extentTable{}
	for _, seg := range s.memory {
		if seg.n == 0 {
			continue
		}
		meta, err := writeSegment(tmp, seg)
		if err != nil {
			_ = os.RemoveAll(tmp)
			return false
		}
		tables[seg.schema.name] = meta
	}
	if os.Rename(tmp, filepath.Join(index, name)) != nil {
		_ = os.RemoveAll(tmp)
		return false
	}
	m.Offset = s.offset
	m.Extents = append(append([]extentEntry(nil), m.Extents...), extentEntry{Name: name, Tables: tables})
	if writeManifest(index, m) != nil {
		return false
	}
	s.manifest = m
	s.newMemory()
	return false
}

// removeUnnamed deletes what no manifest of this file names: extents of
// another file, a crashed sealer's, and unfinished ones. Under the seal
// lock, so that no sealer is between its rename and its manifest.
func (s *Store) removeUnnamed(m manifest) {
	named := map[string]bool{"manifest.json": true, "seal.lock": true}
	for _, e := range m.Extents {
		named[e.Name] = true
	}
	entries, _ := os.ReadDir(s.indexDir())
	for _, e := range entries {
		if !named[e.Name()] {
			_ = os.RemoveAll(filepath.Join(s.indexDir(), e.Name()))
		}
	}
}

func writeManifest(index string, m manifest) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(index, "manifest.json.tmp")
	if err := writeColumnFile(tmp, func(w *bufio.Writer) error { _, err := w.Write(raw); return err }); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(index, "manifest.json"))
}

// Tables are the tables' names, as a query names them.
func Tables() []string {
	names := make([]string, len(schemas))
	for i, t := range schemas {
		names[i] = t.name
	}
	sort.Strings(names)
	return names
}

// Schema is each table's columns and their types.
func Schema() map[string][]kql.ColumnSchema {
	out := map[string][]kql.ColumnSchema{}
	for _, t := range schemas {
		for _, f := range t.fields {
			out[t.name] = append(out[t.name], kql.ColumnSchema{Name: f.name, Type: f.typ.String()})
		}
	}
	return out
}

// Span limits the rows of every table to a time range, as the query
// API's timespan parameter does; the zero Span limits nothing.
type Span struct{ From, To time.Time }

// Query runs a KQL query over the store's tables as they are now, and
// hands its result to read, whose reading of the rows the store waits
// for: rows are computed as they are read.
func (s *Store) Query(text string, now time.Time, span Span, read func(*kql.Result) error) error {
	if err := s.refresh(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	res, err := kql.Run(text, &catalog{s: s, span: span}, now)
	if err != nil {
		return err
	}
	return read(res)
}

// catalog is the store's tables for one query.
type catalog struct {
	s    *Store
	span Span
}

func (c *catalog) Tables() []string { return Tables() }

func (c *catalog) Table(name string) (kql.Table, error) {
	for i := range schemas {
		schema := &schemas[i]
		if schema.name != name {
			continue
		}
		var parts []extentColumns
		for _, e := range c.s.manifest.Extents {
			if meta, ok := e.Tables[name]; ok && meta.Rows > 0 {
				dir := filepath.Join(c.s.indexDir(), e.Name)
				parts = append(parts, extentColumns{rows: meta.Rows, cols: openExtentTable(dir, schema, meta, c.s.markBroken)})
			}
		}
		mem := c.s.memory[schema.envelope]
		parts = append(parts, extentColumns{rows: mem.n, cols: mem.cols})
		var t kql.Table = newStoreTable(schema, parts)
		if !c.span.From.IsZero() || !c.span.To.IsZero() {
			t = c.span.apply(t)
		}
		return t, nil
	}
	return nil, nil
}

func (s *Store) markBroken(error) { s.broken.Store(true) }

// apply keeps the rows whose timestamp is in [From, To].
func (sp Span) apply(t kql.Table) kql.Table {
	ts := t.Column(0) // every table's first column is timestamp
	from, to := int64(-1<<63), int64(1<<63-1)
	if !sp.From.IsZero() {
		from = sp.From.UnixNano() / 100
	}
	if !sp.To.IsZero() {
		to = sp.To.UnixNano() / 100
	}
	var rows []int
	for r := 0; r < t.Len(); r++ {
		if v := ts.Value(r); !v.Null && v.I >= from && v.I <= to {
			rows = append(rows, r)
		}
	}
	return kql.Subset(t, rows)
}
