// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds the ledger, the one place the delivery counters are
// added to. The invariants an operator's dashboards rely on live here:
//
//	received = spooled + passed_through
//	spooled  = delivered + dead_lettered + dropped + waiting (spool_items)
//
// Each item is counted once for where it went, at the moment it left the
// spool's accounting. items_retried and dead_letters_evicted are outside
// the sums: the first counts attempts, the second what the dead-letter
// folder lost after it had counted an item as dead-lettered.

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
)

// Reasons, the reason attribute of the items_dead_lettered, items_dropped
// and items_passed_through counters.
const (
	reasonRejected         = "rejected"
	reasonTooLarge         = "too_large"
	reasonRetriesExhausted = "retries_exhausted"
	reasonExpired          = "expired"
	reasonSpoolFull        = "spool_full"
	reasonUnreadable       = "unreadable"
	reasonHeaders          = "headers"
	reasonWriteFailed      = "write_failed"
	reasonShutdown         = "shutdown"
)

type ledger struct{ tb *metadata.TelemetryBuilder }

func withReason(reason string) metric.AddOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
}

// received counts what the exporter sent through the middleware.
func (l ledger) received(ctx context.Context, items int) {
	l.tb.AppinsightsDeliveryItemsReceived.Add(ctx, int64(items))
}

// spooled counts what is on disk and answered as accepted.
func (l ledger) spooled(ctx context.Context, items int) {
	l.tb.AppinsightsDeliveryItemsSpooled.Add(ctx, int64(items))
}

// passedThrough counts what was sent on without the spool.
func (l ledger) passedThrough(ctx context.Context, items int, reason string) {
	l.tb.AppinsightsDeliveryItemsPassedThrough.Add(ctx, int64(items), withReason(reason))
}

// delivered counts what ingestion accepted from the spool.
func (l ledger) delivered(ctx context.Context, items int) {
	if items > 0 {
		l.tb.AppinsightsDeliveryItemsDelivered.Add(ctx, int64(items))
	}
}

// retried counts items to be sent again.
func (l ledger) retried(ctx context.Context, items int) {
	if items > 0 {
		l.tb.AppinsightsDeliveryItemsRetried.Add(ctx, int64(items))
	}
}

// deadLettered counts items written to the dead letters.
func (l ledger) deadLettered(ctx context.Context, items int, reason string) {
	if items > 0 {
		l.tb.AppinsightsDeliveryItemsDeadLettered.Add(ctx, int64(items), withReason(reason))
	}
}

// dropped counts items lost.
func (l ledger) dropped(ctx context.Context, items int, reason string) {
	if items > 0 {
		l.tb.AppinsightsDeliveryItemsDropped.Add(ctx, int64(items), withReason(reason))
	}
}

// deadLettersEvicted counts dead letters deleted to keep the folder in
// its bound.
func (l ledger) deadLettersEvicted(ctx context.Context, items int) {
	if items > 0 {
		l.tb.AppinsightsDeliveryDeadLettersEvicted.Add(ctx, int64(items))
	}
}
