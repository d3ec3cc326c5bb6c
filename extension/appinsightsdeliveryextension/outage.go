// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds the outage breaker, and nothing that sends or logs: a
// state machine over the times it is told, so that a test walks it with
// a clock of its own.

import (
	"sync"
	"time"
)

// outage tells a failing request from a failing ingestion. When threshold
// requests in a row fail on their first attempt, ingestion is down: all
// delivery pauses, longer with each failure of the outage, then one
// request at a time probes until one gets through.
//
// The probe is a token: the worker admitted as the probe holds it until
// it calls end, which the deliverer defers, so that no return path (an
// unreadable file, nothing to claim, a cancelled context) can leave the
// other workers waiting for a probe that never ends.
type outage struct {
	threshold int
	backoff   backoff

	mu sync.Mutex
	// streak counts the requests that failed on their first attempt since
	// ingestion last took one. A request that keeps failing adds once, so
	// it cannot pause the others.
	streak int
	// failures counts the failures of the outage, for its pause.
	failures   int
	pauseUntil time.Time
	probing    bool
	// lastSuccess is when ingestion last took telemetry.
	lastSuccess time.Time
	// failingSince is when the current failure episode began; zero while
	// delivery works.
	failingSince time.Time
}

func newOutage(threshold int, b backoff) *outage {
	return &outage{threshold: threshold, backoff: b}
}

// probe is the right to send the one request of an outage. Its zero value
// is no probe; end is safe on it.
type probe struct{ o *outage }

// end gives the probe back: the next worker may probe.
func (p probe) end() {
	if p.o == nil {
		return
	}
	p.o.mu.Lock()
	defer p.o.mu.Unlock()
	p.o.probing = false
}

// admit says how long a worker must wait before it claims a request: the
// outage's pause, or a moment while another worker probes. With no wait
// it may hand out the probe, which the worker must end.
func (o *outage) admit(now time.Time) (time.Duration, probe) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if now.Before(o.pauseUntil) {
		return o.pauseUntil.Sub(now), probe{}
	}
	if o.streak < o.threshold {
		return 0, probe{}
	}
	if o.probing {
		return o.backoff.initial, probe{}
	}
	o.probing = true
	return 0, probe{o}
}

// succeeded notes that ingestion took telemetry: a failure episode, and
// any outage, is over. It returns how long delivery had been failing, zero
// when it had not.
func (o *outage) succeeded(now time.Time) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var failingFor time.Duration
	if !o.failingSince.IsZero() {
		failingFor = now.Sub(o.failingSince)
	}
	o.streak, o.failures, o.failingSince, o.pauseUntil = 0, 0, time.Time{}, time.Time{}
	o.lastSuccess = now
	return failingFor
}

// failed notes that a request sent at sent failed whole at now; first
// says whether it is that request's first failure in a row. It returns
// whether the failure begins an episode, for the one warning an episode
// gets: a failure of an attempt that began before ingestion last took
// telemetry belongs to the episode that success ended.
func (o *outage) failed(now, sent time.Time, first bool, retryAfter time.Duration) (begins bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if first {
		o.streak++
	}
	if o.streak >= o.threshold {
		o.failures++
		o.pauseUntil = now.Add(o.backoff.after(o.failures, retryAfter))
	}
	if o.failingSince.IsZero() && !sent.Before(o.lastSuccess) {
		o.failingSince = now
		return true
	}
	return false
}

// tookSince reports whether ingestion took telemetry after t: a request
// that failed again since then failed while others were delivered.
func (o *outage) tookSince(t time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lastSuccess.After(t)
}
