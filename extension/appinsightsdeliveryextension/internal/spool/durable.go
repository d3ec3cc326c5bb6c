// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

// This file holds the spool's file operations and nothing else: the rule
// is that they are called without the spool's mutex held, so that a hung
// disk holds only the goroutine that touches it, never Stats, Claim or a
// shutdown. What differs by operating system (syncing a folder, locking
// it) is in durable_unix.go and durable_windows.go.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// FileSystem is what the spool does to its files. Tests give the spool one
// that fails or blocks.
type FileSystem interface {
	// WriteFile writes data to path so that it survives a crash of the
	// process or the machine once WriteFile returns: a temporary file,
	// synced, renamed into place, the folder synced where the system
	// allows it. A reader never sees a half-written file at path.
	WriteFile(path string, data ...[]byte) error
	ReadFile(path string) ([]byte, error)
	Remove(path string) error
	Rename(from, to string) error
}

// OS is the FileSystem of the operating system.
var OS FileSystem = osFS{}

type osFS struct{}

func (osFS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }
func (osFS) Remove(path string) error             { return os.Remove(path) }
func (osFS) Rename(from, to string) error         { return os.Rename(from, to) }

func (osFS) WriteFile(path string, data ...[]byte) (err error) {
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
		// fsync on unix, FlushFileBuffers on Windows.
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
	if err = syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync spool folder: %w", err)
	}
	return nil
}
