// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestion // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// EnvelopesFile is the name of the file a Store writes in its folder.
const EnvelopesFile = "envelopes.jsonl"

// Store appends accepted envelopes to a JSON-lines file, one envelope per
// line, and syncs the file to disk before Append returns: an envelope the
// endpoint has answered 200 for survives a crash.
type Store struct {
	mu   sync.Mutex
	file *os.File
}

// OpenStore opens (creating it and its folder if needed) the envelopes file
// in dir for appending.
func OpenStore(dir string) (*Store, error) {
	// The envelopes carry the instrumentation key: the collector's user
	// alone may read them.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restrict data folder: %w", err)
	}
	path := filepath.Join(dir, EnvelopesFile)
	if err := repairTornLine(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open envelopes file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("restrict envelopes file: %w", err)
	}
	return &Store{file: f}, nil
}

// Path is the envelopes file's path.
func (s *Store) Path() string { return s.file.Name() }

// Append writes each line followed by a newline, in one write, and syncs.
func (s *Store) Append(lines [][]byte) error {
	if len(lines) == 0 {
		return nil
	}
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	buf := make([]byte, 0, n)
	for _, l := range lines {
		buf = append(append(buf, l...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return errors.New("store closed")
	}
	if _, err := s.file.Write(buf); err != nil {
		return fmt.Errorf("write envelopes: %w", err)
	}
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("sync envelopes: %w", err)
	}
	return nil
}

// Close closes the file; later Appends fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}

// repairTornLine cuts a last line that a crash left half-written, so that
// every line of the file is a whole envelope.
func repairTornLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open envelopes file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return err
	}
	// Look back for the last newline, a block at a time.
	const block = 64 << 10
	end := info.Size()
	buf := make([]byte, block)
	for pos := end; pos > 0; {
		n := int64(block)
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return fmt.Errorf("read envelopes file: %w", err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if keep := pos + int64(i) + 1; keep < end {
				return truncateSynced(f, keep)
			}
			return nil
		}
	}
	return truncateSynced(f, 0)
}

func truncateSynced(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("repair envelopes file: %w", err)
	}
	return f.Sync()
}
