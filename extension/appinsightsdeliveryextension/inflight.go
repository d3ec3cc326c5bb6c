// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"context"
	"sync"
	"time"
)

// inFlight counts the track requests under way and remembers when the
// last one started.
type inFlight struct {
	mu        sync.Mutex
	active    int
	lastStart time.Time
	changed   chan struct{}
}

func newInFlight() *inFlight {
	return &inFlight{lastStart: time.Now(), changed: make(chan struct{})}
}

func (f *inFlight) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active++
	f.lastStart = time.Now()
	f.signal()
}

// touch restarts the quiet period.
func (f *inFlight) touch() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastStart = time.Now()
}

func (f *inFlight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active--
	f.signal()
}

// signal wakes every waiter; called with mu held.
func (f *inFlight) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// wait returns once nothing is in flight and nothing started for quiet, or
// when ctx ends; it returns how many requests were still in flight.
func (f *inFlight) wait(ctx context.Context, quiet time.Duration) int {
	for {
		f.mu.Lock()
		active, since, changed := f.active, time.Since(f.lastStart), f.changed
		f.mu.Unlock()
		if active == 0 && since >= quiet {
			return 0
		}
		timer := time.NewTimer(quiet - since)
		if active > 0 || since >= quiet {
			timer.Reset(quiet)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.active
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}
