// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package tempdir gives a test a folder of its own that is removed when the
// test ends, on every system the spool's tests run on, Wine included.
package tempdir // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/tempdir"

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// New is t.TempDir, except on Windows, where the folder is emptied entry by
// entry: under Wine 8 (scripts/test-windows.sh), os.RemoveAll fails with
// "Invalid function" (it deletes through a file handle Wine cannot), while
// os.Remove works.
func New(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "spooltest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	return dir
}

func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if err := removeTree(path); err != nil {
				return err
			}
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}
