// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build windows

package launcher

import (
	"os"
	"os/exec"
	"time"
)

// Windows has no process groups to signal: the step and the collector
// share the console's Ctrl-C, and a forwarded signal ends the step.
var supervisedSignals = []os.Signal{os.Interrupt}

func detach(*exec.Cmd)                       {}
func ownGroup(*exec.Cmd, any) bool           { return false }
func takeTerminalBack(any)                   {}
func forward(cmd *exec.Cmd, _ os.Signal)     { _ = cmd.Process.Kill() }
func kill(cmd *exec.Cmd)                     { _ = cmd.Process.Kill() }
func endGroup(*exec.Cmd, time.Duration) bool { return false }
func becomeSubreaper()                       {}
func signalNumber(os.Signal) int             { return 2 }

// terminate cannot ask a Windows process to stop: it fails, and the
// caller kills it.
func terminate(p *os.Process) error { return p.Signal(os.Interrupt) }

func signalName(sig os.Signal) string { return sig.String() }

func growPipe(*os.File) {}
