// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

import (
	"fmt"
	"os"
	"path/filepath"
)

// lock holds the lock file open; on these systems nothing stops a second
// collector from using the folder too.
func lock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock spool folder: %w", err)
	}
	return f, nil
}
