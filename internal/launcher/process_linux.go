// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// setDeathSignal has the kernel send sig to the child when the launcher
// dies, even by SIGKILL.
func setDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) {
	attr.Pdeathsig = sig
}

// becomeSubreaper makes the launcher the parent of the step's orphans,
// so that it can reap what the step leaves behind.
func becomeSubreaper() {
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}
