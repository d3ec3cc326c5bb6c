// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix && !linux

package launcher

import (
	"os"
	"syscall"
)

// Only Linux has a parent-death signal and subreapers: elsewhere a
// launcher killed with SIGKILL leaves the step and the collector running.
func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}
func becomeSubreaper()                                    {}
func growPipe(*os.File)                                   {}
