// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bufio"
	"bytes"
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
const (
	sealRows    = 65536
	minSealRows = 8192
)

// Store is the Application Insights tables of a store folder: the sealed
// extents of its index, and the envelopes appended since, read into
// memory. A query runs over the rows there were when it started.
type Store struct {
	dir, path string

	mu       sync.RWMutex
	extents  []*extent
	memory   map[string]*segment // by envelope type: Message, Exception, ...
	offset   int64               // bytes of the envelopes file read, up to a line's end
	manifest manifest
	skipped  int // lines no table takes, or not JSON
	// noIndex keeps every row in memory and writes no index (tests
	// compare the two).
	noIndex bool
}

// extent is a sealed extent's tables, columns read on demand.
type extent struct {
	tables map[string]extentColumns
}

type extentColumns struct {
	rows int
	cols []kql.Column
}

// manifest is index/manifest.json: which extents cover which bytes of
// which envelopes file.
type manifest struct {
	Version int    `json:"version"`
	Offset  int64  `json:"offset"` // bytes of the envelopes file the extents hold
	Head    string `json:"head"`   // SHA-256 of the file's first line: the same file
	Extents []struct {
		Name   string                 `json:"name"`
		Tables map[string]extentTable `json:"tables"`
	} `json:"extents"`
}

const manifestVersion = 1

// Open is the store of a folder; its envelopes file need not exist yet.
func Open(dir string) *Store {
	s := &Store{dir: dir, path: filepath.Join(dir, EnvelopesFile)}
	s.reset()
	s.loadIndex()
	return s
}

func (s *Store) reset() {
	s.offset, s.skipped = 0, 0
	s.extents = nil
	s.manifest = manifest{Version: manifestVersion}
	s.newMemory()
}

func (s *Store) newMemory() {
	s.memory = map[string]*segment{}
	for i := range schemas {
		s.memory[schemas[i].envelope] = newSegment(&schemas[i])
	}
}

// fileHead identifies the envelopes file by its first line.
func (s *Store) fileHead() string {
	f, err := os.Open(s.path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, buf)
	if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
		n = i
	}
	sum := sha256.Sum256(buf[:n])
	return hex.EncodeToString(sum[:])
}

// loadIndex takes the extents of the index when they are of this
// envelopes file; an index of another file is ignored (and replaced at
// the next seal).
func (s *Store) loadIndex() {
	raw, err := os.ReadFile(filepath.Join(s.dir, IndexDir, "manifest.json"))
	if err != nil {
		return
	}
	var m manifest
	if json.Unmarshal(raw, &m) != nil || m.Version != manifestVersion {
		return
	}
	info, err := os.Stat(s.path)
	if err != nil || info.Size() < m.Offset || m.Head != s.fileHead() {
		return
	}
	s.manifest = m
	s.offset = m.Offset
	for _, e := range m.Extents {
		s.extents = append(s.extents, openExtent(filepath.Join(s.dir, IndexDir, e.Name), e.Tables))
	}
}

func openExtent(dir string, tables map[string]extentTable) *extent {
	e := &extent{tables: map[string]extentColumns{}}
	for i := range schemas {
		meta := tables[schemas[i].name]
		if meta.Rows == 0 {
			continue
		}
		e.tables[schemas[i].name] = extentColumns{rows: meta.Rows, cols: openExtentTable(dir, &schemas[i], meta)}
	}
	return e
}

// refresh reads what was appended to the envelopes file since the last
// read, and seals what it can.
func (s *Store) refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
	if info.Size() < s.offset {
		s.reset() // a new file: read it from the start
	}
	if info.Size() > s.offset {
		if err := s.readFrom(f); err != nil {
			return err
		}
	}
	if s.memoryRows() >= minSealRows && !s.noIndex {
		s.seal()
	}
	return nil
}

func (s *Store) readFrom(f *os.File) error {
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, 0, 8<<20)
	chunk := make([]byte, 4<<20)
	for {
		n, err := f.Read(chunk)
		buf = append(buf, chunk[:n]...)
		// Whole lines only: a line being written is read next time.
		if end := bytes.LastIndexByte(buf, '\n'); end >= 0 {
			s.addLines(buf[:end+1])
			s.offset += int64(end + 1)
			buf = append(buf[:0], buf[end+1:]...)
			if s.memoryRows() >= sealRows && !s.noIndex {
				s.seal()
			}
		}
		if err == io.EOF {
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
// names it; while another process seals the same folder, the rows stay
// in memory. A seal that fails leaves the index as it was: the rows stay
// in memory, and the index is only ever a copy.
func (s *Store) seal() {
	index := filepath.Join(s.dir, IndexDir)
	if err := os.MkdirAll(index, 0o700); err != nil {
		return
	}
	lock := filepath.Join(index, "seal.lock")
	lf, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		// A lock older than any seal takes is a crashed sealer's.
		if info, serr := os.Stat(lock); serr == nil && time.Since(info.ModTime()) > 10*time.Minute {
			_ = os.Remove(lock)
		}
		return
	}
	defer func() { _ = lf.Close(); _ = os.Remove(lock) }()

	// Another process may have sealed meanwhile: take its manifest only
	// if it covers exactly what this store has sealed.
	m := s.manifest
	if m.Head == "" || len(m.Extents) == 0 {
		m = manifest{Version: manifestVersion, Head: s.fileHead()}
		// An index of another file goes.
		entries, _ := os.ReadDir(index)
		for _, e := range entries {
			if e.IsDir() {
				_ = os.RemoveAll(filepath.Join(index, e.Name()))
			}
		}
	}
	name := fmt.Sprintf("extent-%016x", s.offset)
	tmp := filepath.Join(index, name+".tmp")
	_ = os.RemoveAll(tmp)
	tables := map[string]extentTable{}
	for _, seg := range s.memory {
		if seg.n == 0 {
			continue
		}
		meta, err := writeSegment(tmp, seg)
		if err != nil {
			_ = os.RemoveAll(tmp)
			return
		}
		tables[seg.schema.name] = meta
	}
	final := filepath.Join(index, name)
	_ = os.RemoveAll(final)
	if os.Rename(tmp, final) != nil {
		_ = os.RemoveAll(tmp)
		return
	}
	m.Offset = s.offset
	m.Extents = append(m.Extents, struct {
		Name   string                 `json:"name"`
		Tables map[string]extentTable `json:"tables"`
	}{Name: name, Tables: tables})
	if writeManifest(index, m) != nil {
		return
	}
	s.manifest = m
	s.extents = append(s.extents, openExtent(final, tables))
	s.newMemory()
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
		for _, e := range c.s.extents {
			if t, ok := e.tables[name]; ok {
				parts = append(parts, t)
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
