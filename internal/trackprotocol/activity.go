// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package trackprotocol // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"

import (
	"context"
	"sync"
	"time"
)

// Activity counts the track requests under way and remembers when the
// last one started. The Azure Monitor exporter sends its last flush only as
// it stops, and a collector stops its extensions in no set order: whoever
// serves or carries track requests waits for a quiet period before it
// stops, so that the last flush still finds it.
type Activity struct {
	mu        sync.Mutex
	active    int
	lastStart time.Time
	changed   chan struct{}
}

// NewActivity returns an Activity whose quiet period starts now.
func NewActivity() *Activity {
	return &Activity{lastStart: time.Now(), changed: make(chan struct{})}
}

// Start notes a request that begins; Done must follow.
func (a *Activity) Start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active++
	a.lastStart = time.Now()
	a.signal()
}

// Done notes a request that ended.
func (a *Activity) Done() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.active--
	a.signal()
}

// signal wakes every waiter; called with mu held.
func (a *Activity) signal() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// WaitQuiet returns once nothing is in flight and no request started for
// quiet, counted from the call at the earliest, or when ctx ends. It
// returns how many requests were still in flight.
func (a *Activity) WaitQuiet(ctx context.Context, quiet time.Duration) int {
	a.mu.Lock()
	a.lastStart = time.Now()
	a.mu.Unlock()
	for {
		a.mu.Lock()
		active, since, changed := a.active, time.Since(a.lastStart), a.changed
		a.mu.Unlock()
		if active == 0 && since >= quiet {
			return 0
		}
		wait := quiet - since
		if active > 0 || wait <= 0 {
			wait = quiet
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.active
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
	}
}
