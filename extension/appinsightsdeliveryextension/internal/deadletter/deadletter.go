// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package deadletter keeps the telemetry items Application Insights will
// never take, so that an operator can see why and send them again: JSON
// lines, one item a line, with the reason, the status and the time, in
// files of a bounded folder. When the folder would grow past its bound,
// its oldest file goes, and Add says how many records went with it, so
// that no dead letter is lost uncounted.
package deadletter // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	filePrefix = "dead-letters-"
	fileSuffix = ".jsonl"
)

// Record is one dead-lettered item, one line of a file.
type Record struct {
	Time time.Time `json:"time"`
	// Reason says why: rejected (ingestion refused the item for good),
	// too_large, retries_exhausted or expired.
	Reason string `json:"reason"`
	// Status is the last HTTP status ingestion answered for the item, 0
	// when it never answered.
	Status  int    `json:"status"`
	Message string `json:"message,omitempty"`
	// Item is the envelope as it was sent; Raw holds it instead when it is
	// not JSON.
	Item json.RawMessage `json:"item,omitempty"`
	Raw  string          `json:"raw,omitempty"`
}

// Folder is a bounded folder of dead-letter files. It is safe for
// concurrent use.
type Folder struct {
	dir      string
	maxBytes int64
	// fileBytes is where a file is closed and the next one begun.
	fileBytes int64

	mu      sync.Mutex
	current string
	size    int64 // of current
	files   []string
	total   int64
	// records counts the records of the files written by this process;
	// a file from an earlier one is counted when it is evicted.
	records map[string]int
}

// Open opens or creates the folder, bounded to maxBytes.
func Open(dir string, maxBytes int64) (*Folder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create dead-letter folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict dead-letter folder: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read dead-letter folder: %w", err)
	}
	f := &Folder{dir: dir, maxBytes: maxBytes, fileBytes: max(min(maxBytes/4, 16<<20), 1), records: map[string]int{}}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), filePrefix) || !strings.HasSuffix(e.Name(), fileSuffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		f.files = append(f.files, e.Name())
		f.total += info.Size()
	}
	slices.Sort(f.files) // names sort by time
	return f, nil
}

// Dir is the folder's path.
func (f *Folder) Dir() string { return f.dir }

// Add appends records, synced to disk. To stay within its bound the
// folder deletes its oldest files first; evicted is how many records they
// held.
func (f *Folder) Add(records []Record) (evicted int, err error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range records {
		if len(r.Item) > 0 && !json.Valid(r.Item) {
			r.Raw, r.Item = string(r.Item), nil
		}
		if err := enc.Encode(r); err != nil {
			return 0, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.current == "" || f.size+int64(buf.Len()) > f.fileBytes {
		f.current = fmt.Sprintf("%s%s%s", filePrefix, time.Now().UTC().Format("20060102T150405.000000000Z"), fileSuffix)
		f.size = 0
		f.files = append(f.files, f.current)
	}
	for f.total+int64(buf.Len()) > f.maxBytes && len(f.files) > 1 {
		evicted += f.evictOldest()
	}
	file, err := os.OpenFile(filepath.Join(f.dir, f.current), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return evicted, fmt.Errorf("write dead letters: %w", err)
	}
	_, err = file.Write(buf.Bytes())
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return evicted, fmt.Errorf("write dead letters: %w", err)
	}
	f.size += int64(buf.Len())
	f.total += int64(buf.Len())
	f.records[f.current] += len(records)
	return evicted, nil
}

// evictOldest deletes the oldest file and returns how many records it
// held; mu held.
func (f *Folder) evictOldest() int {
	oldest := filepath.Join(f.dir, f.files[0])
	n, known := f.records[f.files[0]]
	if !known {
		// Written by an earlier process: one record a line.
		if data, err := os.ReadFile(oldest); err == nil {
			n = bytes.Count(data, []byte{'\n'})
		}
	}
	if info, err := os.Stat(oldest); err == nil {
		f.total -= info.Size()
	}
	_ = os.Remove(oldest)
	delete(f.records, f.files[0])
	f.files = f.files[1:]
	return n
}

// Bytes is what the folder holds.
func (f *Folder) Bytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}
