// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoff(t *testing.T) {
	base := backoff{initial: time.Second, max: time.Minute, maxAge: 48 * time.Hour}
	for _, tc := range []struct {
		name       string
		failures   int
		retryAfter time.Duration
		jitter     float64
		maxAge     time.Duration
		want       time.Duration
	}{
		{name: "first failure", failures: 1, jitter: 1, want: time.Second},
		{name: "doubles", failures: 2, jitter: 1, want: 2 * time.Second},
		{name: "doubles again", failures: 4, jitter: 1, want: 8 * time.Second},
		{name: "capped at max_interval", failures: 7, jitter: 1, want: time.Minute},
		{name: "no overflow", failures: 1000, jitter: 1, want: time.Minute},
		{name: "jitter down", failures: 1, jitter: 0.8, want: 800 * time.Millisecond},
		{name: "jitter up", failures: 7, jitter: 1.2, want: 72 * time.Second},
		{name: "longer Retry-After wins", failures: 1, jitter: 1, retryAfter: 30 * time.Second, want: 30 * time.Second},
		{name: "shorter Retry-After loses", failures: 4, jitter: 1, retryAfter: time.Second, want: 8 * time.Second},
		{name: "Retry-After capped", failures: 1, jitter: 1, retryAfter: 24 * time.Hour, want: maxRetryAfter},
		{name: "never past max_age", failures: 7, jitter: 1, maxAge: 10 * time.Second, want: 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			b.jitter = func() float64 { return tc.jitter }
			if tc.maxAge > 0 {
				b.maxAge = tc.maxAge
			}
			assert.Equal(t, tc.want, b.after(tc.failures, tc.retryAfter))
		})
	}
	huge := newBackoff(SpoolConfig{InitialInterval: time.Hour, MaxInterval: 24 * time.Hour, MaxAge: 48 * time.Hour})
	assert.Positive(t, huge.after(100, 0), "no overflow with real jitter")
}
