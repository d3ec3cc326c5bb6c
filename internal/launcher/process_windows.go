// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build windows

package launcher

import (
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// Windows has no process groups to signal: the step shares the console,
// so it had the Ctrl-C the launcher was told of, and handles it itself;
// --kill-after later, it is killed.
var supervisedSignals = []os.Signal{os.Interrupt}

var sigQuit os.Signal // none on Windows

// groupEnd is what endGroup found and did: on Windows, nothing.
type groupEnd int8

const (
	groupEmpty groupEnd = iota
	groupStopped
	groupStuck
)

// detach starts the collector in a process group of its own, so that a
// Ctrl-Break can be sent to it alone (terminate).
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// terminate asks the collector to stop with a Ctrl-Break, which Go
// programs take as os.Interrupt: it delivers what it holds and exits.
// Without a console to send it on, it fails, and the caller kills.
func terminate(p *os.Process) error {
	return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(p.Pid))
}

func ownGroup(*exec.Cmd, any) bool           { return false }
func takeTerminalBack(any)                   {}
func forward(cmd *exec.Cmd, _ os.Signal)     { _ = cmd.Process.Kill() }
func kill(cmd *exec.Cmd)                     { _ = cmd.Process.Kill() }
func endGroup(*exec.Cmd, time.Duration) bool { return false }
func becomeSubreaper()                       {}
func signalNumber(os.Signal) int             { return 2 }
func signalName(sig os.Signal) string        { return sig.String() }
func growPipe(*os.File)                      {}
