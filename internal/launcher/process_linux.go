// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"os"
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

// capturePipeSize is the capture pipes' buffer: a step that prints fast
// fills the default 64 KiB at once and waits for the launcher to read; a
// larger one lets it write on while the launcher reads in large chunks.
const capturePipeSize = 1 << 20

// growPipe enlarges a pipe's buffer, as far as the system allows.
func growPipe(f *os.File) {
	_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, capturePipeSize)
}
