// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds how long delivery waits after failures, and nothing
// else: a pure function of the failure count and ingestion's Retry-After.

import (
	"math/rand/v2"
	"time"
)

// maxRetryAfter caps the wait ingestion's Retry-After may ask for.
const maxRetryAfter = 10 * time.Minute

// backoff is the wait after failures in a row: exponential from
// initial_interval, capped at max_interval, ±20 % jitter so that many
// collectors coming back from one outage do not send in step; a longer
// Retry-After wins, up to maxRetryAfter, never past max_age.
type backoff struct {
	initial, max, maxAge time.Duration
	// jitter returns a factor in [0.8, 1.2).
	jitter func() float64
}

func newBackoff(cfg SpoolConfig) backoff {
	return backoff{initial: cfg.InitialInterval, max: cfg.MaxInterval, maxAge: cfg.MaxAge, jitter: func() float64 {
		return 0.8 + 0.4*rand.Float64() //nolint:gosec // jitter needs no cryptographic randomness
	}}
}

// after is the wait after the n-th failure in a row (n ≥ 1).
func (b backoff) after(n int, retryAfter time.Duration) time.Duration {
	wait := b.initial
	for i := 1; i < n && wait < b.max; i++ {
		wait *= 2
	}
	wait = time.Duration(float64(min(wait, b.max)) * b.jitter())
	return min(max(wait, min(retryAfter, maxRetryAfter)), b.maxAge)
}
