// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The index holds no URL or headers: half a million waiting requests take
// little memory, and removing one copies nothing.
func TestIndexStaysSmall(t *testing.T) {
	x := newIndex()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 500_000
	batches := make([]*Batch, n)
	for i := range n {
		batches[i] = &Batch{Seq: uint64(i), Created: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Items: 100, Size: BlockSize}
		x.bytes += BlockSize
		x.add(batches[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / n
	assert.Less(t, perEntry, 200.0, "bytes per waiting request")
	for i := 1; i < n; i += 2 {
		x.detach(batches[i])
		x.gone(batches[i])
	}
	assert.Equal(t, n/2, x.batches.Len())
	assert.Equal(t, int64(n/2)*BlockSize, x.bytes)
	runtime.KeepAlive(batches)
}
