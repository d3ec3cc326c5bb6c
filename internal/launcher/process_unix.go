// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package launcher

import (
	"os"
	"os/exec"
	"syscall"
)

// detach puts the collector in a process group of its own, out of reach
// of the terminal's Ctrl-C: the launcher stops it when the step is done.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// ownGroup puts the step in a process group of its own, so that a signal
// reaches every process of it (a shell and what it started).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// forward passes a signal on to the step's whole process group.
func forward(cmd *exec.Cmd, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(-cmd.Process.Pid, s)
		return
	}
	_ = cmd.Process.Signal(sig)
}
