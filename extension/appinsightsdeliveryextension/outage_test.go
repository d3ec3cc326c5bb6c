// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The outage breaker, walked with a clock of the test's own: pause, one
// probe at a time, a failed probe, a probe that never reached ingestion
// (an unreadable file), and the success that ends it.
func TestOutageStateMachine(t *testing.T) {
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	o := newOutage(2, backoff{initial: time.Second, max: 8 * time.Second, maxAge: time.Hour, jitter: func() float64 { return 1 }})
	admitted := func(now time.Time) (time.Duration, bool) {
		wait, p := o.admit(now)
		return wait, p.o != nil
	}

	wait, probing := admitted(at)
	assert.Zero(t, wait, "delivery works: no wait")
	assert.False(t, probing, "and no probe")

	// One request fails: an episode begins, but no outage.
	assert.True(t, o.failed(at, at, true, 0), "the first failure begins an episode")
	wait, _ = admitted(at)
	assert.Zero(t, wait)
	// The same request failing again adds nothing to the streak.
	assert.False(t, o.failed(at, at, false, 0))
	wait, _ = admitted(at)
	assert.Zero(t, wait, "a request that keeps failing cannot pause the others")

	// A second request fails on its first attempt: threshold reached.
	assert.False(t, o.failed(at, at, true, 0), "one warning an episode")
	wait, _ = admitted(at)
	assert.Equal(t, time.Second, wait, "all delivery pauses")

	// After the pause, one worker probes; the others wait a moment.
	at = at.Add(time.Second)
	wait, p := o.admit(at)
	require.Zero(t, wait)
	require.NotNil(t, p.o, "the first worker is the probe")
	wait, probing = admitted(at)
	assert.Equal(t, time.Second, wait, "the others wait while it probes")
	assert.False(t, probing, "one probe at a time")

	// The probe fails: a longer pause.
	o.failed(at, at, false, 0)
	p.end()
	wait, _ = admitted(at)
	assert.Equal(t, 2*time.Second, wait, "the pause doubles")

	// The next probe never reaches ingestion: its file could not be read.
	// Ending it lets another worker probe at once.
	at = at.Add(2 * time.Second)
	_, p = o.admit(at)
	require.NotNil(t, p.o)
	p.end()
	wait, p = o.admit(at)
	require.Zero(t, wait, "an unreadable probe leaves nobody waiting")
	require.NotNil(t, p.o, "the next worker probes")

	// A Retry-After longer than the backoff sets the pause.
	o.failed(at, at, false, 30*time.Second)
	p.end()
	wait, _ = admitted(at)
	assert.Equal(t, 30*time.Second, wait)

	// The probe gets through: the outage is over.
	at = at.Add(30 * time.Second)
	_, p = o.admit(at)
	assert.Equal(t, 33*time.Second, o.succeeded(at), "how long delivery had been failing")
	p.end()
	wait, probing = admitted(at)
	assert.Zero(t, wait)
	assert.False(t, probing, "no probing once it works")
	assert.Zero(t, o.succeeded(at), "nothing was failing any more")

	// A failure of an attempt sent before that success belongs to the
	// episode it ended: no new warning.
	assert.False(t, o.failed(at.Add(time.Second), at.Add(-time.Second), true, 0))
	assert.True(t, o.tookSince(at.Add(-time.Second)))
	assert.False(t, o.tookSince(at))
}
