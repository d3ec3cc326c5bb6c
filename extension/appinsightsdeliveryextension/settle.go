// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds what happens to a claimed request once its attempt has
// an outcome: removed, rewritten with what is left, split, dead-lettered,
// or released to be sent again. Every path ends with the request removed
// or released, never still claimed, and counts its items in the ledger
// exactly once, when they leave the spool's accounting.

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// history is the request's attempt history, begun on first use.
func history(b *spool.Batch) *spool.History {
	if b.History == nil {
		b.History = &spool.History{}
	}
	return b.History
}

func lastStatus(b *spool.Batch) int {
	if b.History == nil {
		return 0
	}
	return b.History.LastStatus
}

// unreadable settles a request whose file could not be read. A corrupt
// file is in quarantine and a missing one gone: their items are lost. Any
// other error (too many open files, EIO, a permission) may pass: the
// request stays, and is read again after its backoff.
func (d *deliverer) unreadable(ctx context.Context, b *spool.Batch, err error) {
	if errors.Is(err, spool.ErrCorrupt) || errors.Is(err, spool.ErrMissing) {
		d.ledger.dropped(ctx, b.Unsettled(), reasonUnreadable)
		d.logger.Error("A spooled request could not be read; its telemetry is lost (a corrupt file is kept in the quarantine folder)",
			zap.Int("items", b.Unsettled()), zap.Error(err))
		return
	}
	h := history(b)
	h.Failures++
	wait := d.backoff.after(h.Failures, 0)
	fields := []zap.Field{zap.Int("items", b.Unsettled()), zap.Duration("retry_in", wait.Round(time.Millisecond)), zap.Error(err)}
	if h.Failures == 1 {
		d.logger.Warn("Could not read a spooled request; it stays in the spool and is read again", fields...)
	} else {
		d.logger.Debug("Could not read a spooled request again", fields...)
	}
	d.spool.Release(b, d.now().Add(wait))
}

// retry settles a request that failed whole: it is sent again after its
// own backoff, unless it kept failing while ingestion took other
// telemetry, when it goes to the dead letters. A refused key never counts
// towards that: it is the connection string's fault, not the telemetry's.
func (d *deliverer) retry(ctx context.Context, b *spool.Batch, sent time.Time, o outcome) {
	d.ledger.retried(ctx, b.Unsettled())
	now := d.now()
	h := history(b)
	h.Failures++
	h.LastStatus = o.status
	if o.verdict != verdictKeyRefused && d.outage.tookSince(h.LastTry) {
		h.Strikes++
	}
	h.LastTry = now
	wait := d.backoff.after(h.Failures, o.retryAfter)
	begins := d.outage.failed(now, sent, h.Failures == 1, o.retryAfter)
	d.reportFailure(o, b.Unsettled(), wait, begins)
	if h.Strikes >= d.cfg.MaxAttempts {
		d.exhausted(ctx, b, o.status, o.describe())
		return
	}
	d.spool.Release(b, now.Add(wait))
}

// exhausted moves a request that failed max_attempts times while others
// were delivered to the dead letters.
func (d *deliverer) exhausted(ctx context.Context, b *spool.Batch, status int, why string) {
	d.logger.Error("A request failed max_attempts times while others were delivered; it moves to the dead letters",
		zap.Int("items", b.Unsettled()), zap.Int("status", status), zap.Int("max_attempts", d.cfg.MaxAttempts), zap.String("dead_letters", d.dead.Dir()))
	d.deadLetterWhole(ctx, b, reasonRetriesExhausted, status, why)
}

// settleItems settles an answer that names its failed items: accepted
// items are delivered, items ingestion refuses for good go to the dead
// letters, and the retryable ones stay in the spool, alone. Ingestion took
// telemetry, so their failure is a strike towards max_attempts.
func (d *deliverer) settleItems(ctx context.Context, b *spool.Batch, req spool.Request, o outcome) {
	items, err := trackprotocol.DecodeItems(req.Encoding(), req.Body)
	if err != nil || len(items) != b.Items {
		d.retry(ctx, b, d.now(), outcome{verdict: verdictRetry, status: o.status, cause: causeUntrusted,
			err: errors.New("the spooled request could not be split into its items")})
		return
	}
	now := d.now()
	var keep [][]byte
	var rejected []deadletter.Record
	var errs []trackprotocol.ItemError
	var settled []int // the items that leave the spool now
	accepted := 0
	for i, item := range items {
		if b.Settled(i) {
			continue // counted when an earlier answer settled it
		}
		e, failed := o.failed[i]
		switch {
		case !failed:
			accepted++
			settled = append(settled, i)
		case trackprotocol.RetryableItem(e.StatusCode):
			errs = append(errs, e)
			keep = append(keep, item)
		default:
			errs = append(errs, e)
			settled = append(settled, i)
			rejected = append(rejected, deadletter.Record{Time: now, Reason: reasonRejected, Status: e.StatusCode, Message: e.Message, Item: item})
		}
	}
	// Dead letters first: a crash before the rewrite sends the request
	// again and dead-letters these twice, but never loses them.
	d.ledger.delivered(ctx, accepted)
	if len(rejected) > 0 {
		d.deadLetter(ctx, rejected, len(rejected), reasonRejected)
		s := summarizeItems(errs)
		d.logger.Error("Application Insights rejected telemetry items for good; they move to the dead letters",
			append([]zap.Field{zap.Int("status", o.status), zap.Int("items_rejected", s.rejected), zap.Int("items_retried", s.retry), zap.String("dead_letters", d.dead.Dir())}, s.fields()...)...)
	}
	if len(keep) == 0 {
		d.remove(b)
		return
	}
	rest, err := trackprotocol.EncodeItems(req.Encoding(), keep)
	if err == nil {
		err = d.spool.Replace(b, req, rest, len(keep))
	}
	if err != nil {
		// The file still holds every item: note the ones settled now, so
		// that the next answer neither counts nor dead-letters them again.
		d.spool.Settle(b, settled)
		d.logger.Error("Could not rewrite a partly delivered request; all of it will be sent again, its delivered items twice", zap.Error(err))
	}
	d.ledger.retried(ctx, len(keep))
	h := history(b)
	h.Failures++
	h.Strikes++
	h.LastTry, h.LastStatus = now, commonStatus(o.failed)
	if h.Strikes >= d.cfg.MaxAttempts {
		d.exhausted(ctx, b, h.LastStatus, "items failed max_attempts times while others were delivered")
		return
	}
	d.spool.Release(b, now.Add(d.backoff.after(h.Failures, o.retryAfter)))
}

// split settles a 413: ingestion will never take the request whole, so it
// is sent again as two halves; a single item still too large goes to the
// dead letters.
func (d *deliverer) split(ctx context.Context, b *spool.Batch, req spool.Request) {
	items, err := trackprotocol.DecodeItems(req.Encoding(), req.Body)
	if err == nil && len(items) > 1 {
		half := len(items) / 2
		var first, second []byte
		first, err = trackprotocol.EncodeItems(req.Encoding(), items[:half])
		if err == nil {
			second, err = trackprotocol.EncodeItems(req.Encoding(), items[half:])
		}
		if err == nil {
			err = d.spool.Split(b, req, first, second, half, len(items)-half)
		}
		if err == nil {
			d.logger.Info("Application Insights refused a request as too large; it is sent again in two halves",
				zap.Int("items", len(items)))
			d.spool.Release(b, time.Time{})
			return
		}
		// The spool could not be written: the request stays whole and is
		// tried again, never dead-lettered for a disk's failure.
		h := history(b)
		h.Failures++
		wait := d.backoff.after(h.Failures, 0)
		d.logger.Error("Could not split a request Application Insights refused as too large; it is tried again",
			zap.Int("items", len(items)), zap.Duration("retry_in", wait), zap.Error(err))
		d.spool.Release(b, d.now().Add(wait))
		return
	}
	d.logger.Error("Application Insights refused an item as too large; it moves to the dead letters",
		zap.Int("items", b.Unsettled()), zap.String("dead_letters", d.dead.Dir()), zap.NamedError("split_error", err))
	d.deadLetterWhole(ctx, b, reasonTooLarge, http.StatusRequestEntityTooLarge, "request entity too large")
}

// deadLetterWhole moves every item of a claimed request that is still
// waiting to the dead letters and removes it from the spool.
func (d *deliverer) deadLetterWhole(ctx context.Context, b *spool.Batch, reason string, status int, message string) {
	req, err := d.spool.Read(b)
	if err != nil {
		d.unreadable(ctx, b, err)
		return
	}
	now := d.now()
	var records []deadletter.Record
	items, err := trackprotocol.DecodeItems(req.Encoding(), req.Body)
	if err == nil {
		for i, item := range items {
			if !b.Settled(i) {
				records = append(records, deadletter.Record{Time: now, Reason: reason, Status: status, Message: message, Item: item})
			}
		}
	} else {
		records = append(records, deadletter.Record{Time: now, Reason: reason, Status: status,
			Message: message + "; body kept whole, base64 as sent: " + err.Error(), Raw: base64.StdEncoding.EncodeToString(req.Body)})
	}
	// Counted by item, whatever form the records took.
	d.deadLetter(ctx, records, b.Unsettled(), reason)
	d.remove(b)
}

// deadLetter writes records holding items telemetry items and counts
// them; when the folder cannot be written, they are counted as dropped
// under the same reason. What the folder evicts to stay in its bound is
// counted and logged.
func (d *deliverer) deadLetter(ctx context.Context, records []deadletter.Record, items int, reason string) {
	evicted, err := d.dead.Add(records)
	if evicted > 0 {
		d.ledger.deadLettersEvicted(ctx, evicted)
		d.logger.Error("The dead-letter folder is full: deleted its oldest dead letters to keep new ones",
			zap.Int("items", evicted), zap.Int64("max_bytes", d.cfg.DeadLetter.MaxBytes), zap.String("dead_letters", d.dead.Dir()))
	}
	if err != nil {
		d.logger.Error("Could not write to the dead letters; the items are lost", zap.Int("items", items), zap.Error(err))
		d.ledger.dropped(ctx, items, reason)
		return
	}
	d.ledger.deadLettered(ctx, items, reason)
}

// remove deletes a claimed request the deliverer is done with.
func (d *deliverer) remove(b *spool.Batch) {
	if err := d.spool.Remove(b); err != nil {
		d.logger.Error("Could not remove a delivered request from the spool; its room stays taken until a later try removes it, and a restart before then sends it again", zap.Error(err))
	}
}
