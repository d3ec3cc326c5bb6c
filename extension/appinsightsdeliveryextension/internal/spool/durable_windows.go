// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build windows

package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// syncDir does nothing: Windows cannot open a folder for syncing (Sync on
// one fails, golang/go#75541), and NTFS journals the rename itself, which
// MoveFileEx makes once the file's own data is flushed (FlushFileBuffers,
// in WriteFile).
func syncDir(string) error { return nil }

// lock takes the folder for this process with LockFileEx: two collectors
// on one spool would send every batch twice and race on its files.
// Windows drops the lock when the process ends, however it ends.
func lock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock spool folder: %w", err)
	}
	var whole windows.Overlapped
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &whole)
	if err != nil {
		_ = f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock spool folder: %w", err)
	}
	return f, nil
}
