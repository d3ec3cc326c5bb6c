// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

// This file holds the spool's in-memory index and its accounting, and no
// I/O: every method is called with the Spool's mutex held, and returns at
// once, so that Stats and the metrics scrape never wait for a disk.

import (
	"container/list"
	"errors"
	"time"
)

var (
	// ErrTooLarge is returned by Put for a request larger than the whole
	// spool.
	ErrTooLarge = errors.New("request is larger than the spool's max_bytes")
	// ErrFull is returned by Put when the requests nobody is delivering do
	// not take enough room to make way for a new one.
	ErrFull = errors.New("spool is full and the requests in it are being delivered")
)

// Batch is one spooled track request. Its exported fields are read-only,
// except History, which belongs to whoever holds the batch's claim.
type Batch struct {
	Seq     uint64
	Created time.Time
	Items   int
	// Size is what the file takes on disk, in whole blocks.
	Size int64
	// History is what delivery remembers of the batch's attempts, nil
	// until one fails (the index stays small). It lives and dies with the
	// batch, so nothing about a batch outlives it.
	History *History

	elem      *list.Element
	claimed   bool
	notBefore time.Time
	// settled holds the items (by index in the file) that have left the
	// spool's accounting, delivered or dead-lettered, while the file could
	// not be rewritten without them; nil when none has.
	settled map[int]bool
}

// Settled reports whether the batch's i-th item has left the spool's
// accounting already (see Spool.Settle). Only the claimer asks.
func (b *Batch) Settled(i int) bool { return b.settled[i] }

// Unsettled is how many of the batch's items still wait.
func (b *Batch) Unsettled() int { return b.Items - len(b.settled) }

// History is what delivery remembers of a batch's attempts in this
// process. Only the holder of the batch's claim reads or writes it.
type History struct {
	// Failures in a row, for the batch's own backoff.
	Failures int
	// Strikes are failures while ingestion took other telemetry: they
	// count towards max_attempts.
	Strikes int
	// LastTry is when the batch was last sent; LastStatus what ingestion
	// answered then (0: no answer).
	LastTry    time.Time
	LastStatus int
	// Rekeyed is set once the batch was rewritten with another
	// instrumentation key: it is never rewritten twice.
	Rekeyed bool
}

// Stats is what the spool holds.
type Stats struct {
	Bytes    int64
	Items    int64
	Requests int
	Oldest   time.Time // zero when empty
}

// index is the spool's view of its folder: the batches oldest first, the
// bytes they take on disk and the items they hold, and who holds which.
type index struct {
	batches list.List // of *Batch, by creation time, then sequence
	// bytes is what the folder takes: waiting batches, writes under way
	// (reserved before they start), and files that could not be removed.
	bytes   int64
	items   int64 // of the batches in the list
	nextSeq uint64
	// unremoved are batches out of the list whose file could not be
	// deleted: they still take their bytes until it is.
	unremoved []*Batch
	// changed is closed and replaced when a batch is added or released.
	changed chan struct{}
}

func newIndex() index { return index{nextSeq: 1, changed: make(chan struct{})} }

// reserveSeq hands out a sequence number that no later write reuses, even
// when the write it was for fails.
func (x *index) reserveSeq() uint64 {
	seq := x.nextSeq
	x.nextSeq++
	return seq
}

// add puts a batch whose bytes are counted already in age order: new
// batches go at the end, so the scan from the back stops at once.
func (x *index) add(b *Batch) {
	e := x.batches.Back()
	for e != nil && older(b, e.Value.(*Batch)) {
		e = e.Prev()
	}
	if e == nil {
		b.elem = x.batches.PushFront(b)
	} else {
		b.elem = x.batches.InsertAfter(b, e)
	}
	x.items += int64(b.Unsettled())
}

// addAfter puts a batch whose bytes are counted already right after mark:
// the second half of a split, as old as the first.
func (x *index) addAfter(b, mark *Batch) {
	b.elem = x.batches.InsertAfter(b, mark.elem)
	x.items += int64(b.Unsettled())
}

func older(a, b *Batch) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Seq < b.Seq
}

// detach takes a batch out of the list; its bytes stay counted until its
// file is gone. It reports whether the batch was in the list.
func (x *index) detach(b *Batch) bool {
	if b.elem == nil {
		return false
	}
	x.batches.Remove(b.elem)
	b.elem = nil
	x.items -= int64(b.Unsettled())
	return true
}

// gone notes that a detached batch's file no longer takes room.
func (x *index) gone(b *Batch) { x.bytes -= b.Size }

// evict makes room for size more bytes by detaching the oldest batches
// nobody holds, whose bytes it stops counting at once: the caller deletes
// their files. It evicts nothing when that would not make enough room.
func (x *index) evict(size, maxBytes int64) ([]*Batch, error) {
	need := x.bytes + size - maxBytes
	if need <= 0 {
		return nil, nil
	}
	var victims []*Batch
	var freed int64
	for e := x.batches.Front(); e != nil && freed < need; e = e.Next() {
		if b := e.Value.(*Batch); !b.claimed {
			victims = append(victims, b)
			freed += b.Size
		}
	}
	if freed < need {
		return nil, ErrFull
	}
	for _, b := range victims {
		x.detach(b)
		x.gone(b)
	}
	return victims, nil
}

// evictOldest detaches the oldest batch nobody holds, if any, and stops
// counting its bytes: the caller deletes its file.
func (x *index) evictOldest() *Batch {
	for e := x.batches.Front(); e != nil; e = e.Next() {
		if b := e.Value.(*Batch); !b.claimed {
			x.detach(b)
			x.gone(b)
			return b
		}
	}
	return nil
}

// claim hands out the oldest batch nobody holds whose backoff has passed
// by now; otherwise when the next one will be ready (zero when none
// waits).
func (x *index) claim(now time.Time) (*Batch, time.Time) {
	var next time.Time
	for e := x.batches.Front(); e != nil; e = e.Next() {
		b := e.Value.(*Batch)
		if b.claimed {
			continue
		}
		if b.notBefore.After(now) {
			if next.IsZero() || b.notBefore.Before(next) {
				next = b.notBefore
			}
			continue
		}
		b.claimed = true
		return b, time.Time{}
	}
	return nil, next
}

// claimCreatedBefore claims the batches created before t that nobody
// holds.
func (x *index) claimCreatedBefore(t time.Time) []*Batch {
	var old []*Batch
	for e := x.batches.Front(); e != nil; e = e.Next() {
		b := e.Value.(*Batch)
		if !b.Created.Before(t) {
			break // the list is in age order
		}
		if !b.claimed {
			b.claimed = true
			old = append(old, b)
		}
	}
	return old
}

func (x *index) release(b *Batch, notBefore time.Time) {
	b.claimed, b.notBefore = false, notBefore
	x.wake()
}

func (x *index) wake() {
	close(x.changed)
	x.changed = make(chan struct{})
}

func (x *index) stats() Stats {
	st := Stats{Bytes: x.bytes, Items: x.items, Requests: x.batches.Len()}
	if e := x.batches.Front(); e != nil {
		st.Oldest = e.Value.(*Batch).Created
	}
	return st
}
