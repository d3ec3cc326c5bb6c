// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build windows

package launcher

import (
	"os"
	"os/exec"
)

// Windows has no process groups to signal: the step and the collector
// share the console's Ctrl-C, and a forwarded signal ends the step.
func detach(*exec.Cmd)   {}
func ownGroup(*exec.Cmd) {}

func forward(cmd *exec.Cmd, _ os.Signal) { _ = cmd.Process.Kill() }
