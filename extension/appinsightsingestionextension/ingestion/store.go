// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestion // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"

import (
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
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, EnvelopesFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open envelopes file: %w", err)
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
