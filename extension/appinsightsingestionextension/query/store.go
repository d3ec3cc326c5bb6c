// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// EnvelopesFile is the file of the local ingestion endpoint's store that
// the tables are read from (ingestion.EnvelopesFile).
const EnvelopesFile = "envelopes.jsonl"

// Store is the Application Insights tables of a store folder. It reads
// the envelopes file once, column by column, and then only what was
// appended since; a query runs over the rows there were when it started.
type Store struct {
	path string

	mu       sync.RWMutex
	offset   int64               // bytes of the file read, up to the end of a whole line
	tables   map[string]*segment // by envelope type: Message, Exception, ...
	skipped  int                 // lines of a type no table takes, or not JSON
	lastSize int64
}

// Open is the store of a folder; its envelopes file need not exist yet.
func Open(dir string) *Store {
	s := &Store{path: filepath.Join(dir, EnvelopesFile)}
	s.reset()
	return s
}

func (s *Store) reset() {
	s.offset, s.skipped = 0, 0
	s.tables = map[string]*segment{}
	for i := range schemas {
		s.tables[schemas[i].envelope] = newSegment(&schemas[i])
	}
}

// refresh reads what was appended to the file since the last read.
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
	if info.Size() == s.offset {
		return nil
	}
	if _, err := f.Seek(s.offset, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<20)
	chunk := make([]byte, 1<<20)
	for {
		n, err := f.Read(chunk)
		buf = append(buf, chunk[:n]...)
		// Whole lines only: a line being written is read next time.
		end := bytes.LastIndexByte(buf, '\n')
		if end >= 0 {
			s.addLines(buf[:end+1])
			s.offset += int64(end + 1)
			buf = append(buf[:0], buf[end+1:]...)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the envelopes file: %w", err)
		}
	}
}

func (s *Store) addLines(lines []byte) {
	offset := s.offset
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines[:i]
		var e envelope
		if err := json.Unmarshal(line, &e); err != nil || e.Name == "" {
			s.skipped++
		} else if seg, ok := s.tables[e.itemType()]; ok {
			seg.add(&e, offset)
		} else {
			s.skipped++
		}
		offset += int64(i + 1)
		lines = lines[i+1:]
	}
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

// Query runs a KQL query over the store's tables as they are now.
func (s *Store) Query(text string, now time.Time, span Span) (*kql.Result, error) {
	if err := s.refresh(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return kql.Run(text, &catalog{s: s, span: span}, now)
}

// catalog is the store's tables for one query.
type catalog struct {
	s    *Store
	span Span
}

func (c *catalog) Tables() []string { return Tables() }

func (c *catalog) Table(name string) (kql.Table, error) {
	for _, seg := range c.s.tables {
		if seg.schema.name != name {
			continue
		}
		var t kql.Table = segmentTable{s: seg, n: seg.n}
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
