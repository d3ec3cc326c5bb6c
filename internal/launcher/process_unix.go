// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package launcher

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// supervisedSignals are the signals the launcher passes on to the step:
// the pipeline cancels (SIGTERM, SIGINT), the terminal went away
// (SIGHUP), or someone wants the step's dump (SIGQUIT).
var supervisedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// sigQuit asks for a dump, not an end.
var sigQuit os.Signal = syscall.SIGQUIT

// detach puts the collector in a process group of its own, out of reach
// of the terminal's Ctrl-C: the launcher stops it when the step is done.
// If the launcher dies, the collector is asked to stop (deliver, and let
// go of its spool folder) rather than left running.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = groupOfItsOwn()
}

// groupOfItsOwn starts a child in a new process group, sent SIGTERM when
// the launcher dies.
func groupOfItsOwn() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(attr, syscall.SIGTERM)
	return attr
}

// ownGroup puts the step in a process group of its own, so that a signal
// reaches every process of it (a shell and what it started). When the
// launcher's stdin is a terminal, the step's group is given the
// foreground, so that the step can read it (a background group is
// stopped with SIGTTIN) and Ctrl-C reaches the step. If the launcher
// dies, the step is sent SIGTERM.
func ownGroup(cmd *exec.Cmd, stdin any) (foreground bool) {
	cmd.SysProcAttr = groupOfItsOwn()
	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		if pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP); err == nil && pgrp == syscall.Getpgrp() {
			cmd.SysProcAttr.Foreground = true
			cmd.SysProcAttr.Ctty = int(f.Fd())
			return true
		}
	}
	return false
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// takeTerminalBack makes the launcher's own group the terminal's
// foreground again once the step is done.
func takeTerminalBack(stdin any) {
	f, ok := stdin.(*os.File)
	if !ok {
		return
	}
	// A background group that sets the foreground gets SIGTTOU.
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(f.Fd()), unix.TIOCSPGRP, syscall.Getpgrp())
}

// forward passes a signal on to the step's whole process group.
func forward(cmd *exec.Cmd, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(-cmd.Process.Pid, s)
		return
	}
	_ = cmd.Process.Signal(sig)
}

// kill ends the step's whole process group at once.
func kill(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// groupEnd is what endGroup found and did.
type groupEnd int8

const (
	groupEmpty   groupEnd = iota // nothing was left
	groupStopped                 // what was left was stopped
	groupStuck                   // something outlived SIGKILL
)

// stuckGrace is how long endGroup waits after SIGKILL: a process that is
// still there is a zombie of a parent that left the group, or stuck in
// the kernel (a GPU driver's teardown), and the launcher goes on.
const stuckGrace = 5 * time.Second

// endGroup ends what the step left running once its main process has
// exited: its process group gets SIGTERM, then SIGKILL after grace, and
// is reaped (the launcher is their subreaper on Linux).
func endGroup(cmd *exec.Cmd, grace time.Duration) groupEnd {
	pgid := cmd.Process.Pid
	if syscall.Kill(-pgid, 0) != nil {
		return groupEmpty
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	killAt := time.Now().Add(grace)
	giveUp := killAt.Add(stuckGrace)
	killed := false
	for syscall.Kill(-pgid, 0) == nil {
		reapGroup(pgid)
		now := time.Now()
		if !killed && now.After(killAt) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed = true
		}
		if now.After(giveUp) {
			return groupStuck
		}
		time.Sleep(10 * time.Millisecond)
	}
	reapGroup(pgid)
	return groupStopped
}

// reapGroup collects the exited processes of a group that were reparented
// to the launcher.
func reapGroup(pgid int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || errors.Is(err, syscall.ECHILD) {
			return
		}
	}
}

// signalNumber is the number a shell adds to 128 for sig.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return int(syscall.SIGTERM)
}

// terminate asks a process to stop.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// signalName is a signal as a shell names it: SIGTERM.
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}
