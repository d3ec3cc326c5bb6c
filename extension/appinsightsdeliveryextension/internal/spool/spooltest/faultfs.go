// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package spooltest gives tests a disk that fails or hangs, for the spool
// and for the extension around it.
package spooltest // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool/spooltest"

import (
	"sync"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
)

// Hook runs before an operation on path; an error fails the operation.
type Hook func(path string) error

// FaultFS is the operating system's file system with faults: each hook,
// when set, runs before its operation (AfterWrite after a write that
// reached the folder) and fails it with what it returns. Hooks may be set
// while the spool runs.
type FaultFS struct {
	mu                              sync.Mutex
	write, afterWrite, read, remove Hook
}

// OnWrite sets the hook of WriteFile.
func (f *FaultFS) OnWrite(h Hook) { f.set(&f.write, h) }

// AfterWrite sets the hook that runs once a write reached the folder.
func (f *FaultFS) AfterWrite(h Hook) { f.set(&f.afterWrite, h) }

// OnRead sets the hook of ReadFile.
func (f *FaultFS) OnRead(h Hook) { f.set(&f.read, h) }

// OnRemove sets the hook of Remove.
func (f *FaultFS) OnRemove(h Hook) { f.set(&f.remove, h) }

func (f *FaultFS) set(slot *Hook, h Hook) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*slot = h
}

func (f *FaultFS) run(slot *Hook, path string) error {
	f.mu.Lock()
	h := *slot
	f.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(path)
}

func (f *FaultFS) WriteFile(path string, data ...[]byte) error {
	if err := f.run(&f.write, path); err != nil {
		return err
	}
	if err := spool.OS.WriteFile(path, data...); err != nil {
		return err
	}
	return f.run(&f.afterWrite, path)
}

func (f *FaultFS) ReadFile(path string) ([]byte, error) {
	if err := f.run(&f.read, path); err != nil {
		return nil, err
	}
	return spool.OS.ReadFile(path)
}

func (f *FaultFS) Remove(path string) error {
	if err := f.run(&f.remove, path); err != nil {
		return err
	}
	return spool.OS.Remove(path)
}

func (f *FaultFS) Rename(from, to string) error { return spool.OS.Rename(from, to) }

// Times returns a hook that fails the first n operations with err, then
// lets them pass.
func Times(n int, err error) Hook {
	var mu sync.Mutex
	return func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if n > 0 {
			n--
			return err
		}
		return nil
	}
}
