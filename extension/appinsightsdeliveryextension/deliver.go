// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// Reasons items are dropped, the reason attribute of items_dropped.
const (
	reasonRejected   = "rejected"
	reasonExpired    = "expired"
	reasonSpoolFull  = "spool_full"
	reasonUnreadable = "unreadable"
)

// maxAnswer bounds how much of an answer is read: ingestion's are small.
const maxAnswer = 4 << 20

// deliverer sends the spool's batches to ingestion, oldest first, one at a
// time, and removes each once ingestion has taken or refused it for good.
type deliverer struct {
	cfg       SpoolConfig
	spool     *spool.Spool
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	now       func() time.Time

	// client sends with the exporter's own HTTP transport (TLS, proxy),
	// the one the middleware wraps, and follows ingestion's redirects
	// (307/308 to a regional endpoint) as the exporter's client would;
	// delivery waits for it.
	transportOnce  sync.Once
	transportReady chan struct{}
	client         *http.Client

	// drain, closed at shutdown, makes run return once the spool is empty.
	drain chan struct{}
}

func newDeliverer(cfg SpoolConfig, s *spool.Spool, logger *zap.Logger, tb *metadata.TelemetryBuilder) *deliverer {
	return &deliverer{
		cfg: cfg, spool: s, logger: logger, telemetry: tb, now: time.Now,
		transportReady: make(chan struct{}),
		drain:          make(chan struct{}),
	}
}

// setTransport gives the deliverer the transport to send with; the first
// exporter to wrap its client provides it.
func (d *deliverer) setTransport(rt http.RoundTripper) {
	d.transportOnce.Do(func() {
		d.client = &http.Client{Transport: rt, Timeout: d.cfg.Timeout}
		close(d.transportReady)
	})
}

// run delivers until ctx ends, or, once drain is closed, until the spool
// is empty.
func (d *deliverer) run(ctx context.Context) {
	select {
	case <-d.transportReady:
	case <-d.drain:
		return // no exporter ever used the middleware
	case <-ctx.Done():
		return
	}
	var failures int
	var failingSince time.Time
	for ctx.Err() == nil {
		d.expire()
		b, ok, added := d.spool.Oldest()
		if !ok {
			select {
			case <-added:
				continue
			case <-d.drain:
				return
			case <-ctx.Done():
				return
			}
		}
		retryAfter, failure := d.deliver(ctx, b)
		if ctx.Err() != nil {
			return
		}
		if failure == nil {
			if failures > 0 {
				d.logger.Info("Delivering to Application Insights again",
					zap.Int("failed_attempts", failures), zap.Duration("failing_for", d.now().Sub(failingSince).Round(time.Second)))
			}
			failures = 0
			continue
		}
		failures++
		// Retry-After may ask for longer than the backoff, not for longer
		// than anything may wait in the spool.
		wait := min(max(d.backoff(failures), retryAfter), d.cfg.MaxAge)
		if failures == 1 {
			failingSince = d.now()
			d.logger.Warn("Could not deliver to Application Insights; the telemetry stays in the spool and is sent again",
				append(failure, zap.Duration("retry_in", wait.Round(time.Millisecond)), zap.Int64("spool_items", d.spool.Stats().Items))...)
		} else {
			d.logger.Debug("Delivery failed again",
				append(failure, zap.Int("attempt", failures), zap.Duration("retry_in", wait.Round(time.Millisecond)))...)
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return
		}
	}
}

// backoff is the wait after the n-th failure in a row: exponential from
// initial_interval, capped at max_interval, ±20 % jitter so that many
// collectors coming back from one outage do not send in step.
func (d *deliverer) backoff(n int) time.Duration {
	wait := d.cfg.InitialInterval
	for i := 1; i < n && wait < d.cfg.MaxInterval; i++ {
		wait *= 2
	}
	wait = min(wait, d.cfg.MaxInterval)
	jitter := 0.8 + 0.4*rand.Float64() //nolint:gosec // jitter needs no cryptographic randomness
	return time.Duration(float64(wait) * jitter)
}

// expire drops what has waited longer than max_age.
func (d *deliverer) expire() {
	removed, err := d.spool.RemoveCreatedBefore(d.now().Add(-d.cfg.MaxAge))
	if err != nil {
		d.logger.Error("Could not remove an expired batch from the spool", zap.Error(err))
	}
	if items := itemsOf(removed); items > 0 {
		d.dropped(items, reasonExpired)
		d.logger.Error("Dropped telemetry older than the spool's max_age without delivering it",
			zap.Int("items", items), zap.Duration("max_age", d.cfg.MaxAge))
	}
}

func (d *deliverer) dropped(items int, reason string) {
	d.telemetry.AppinsightsDeliveryItemsDropped.Add(context.Background(), int64(items),
		metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
}

// deliver sends one batch. A nil failure means the batch is done with:
// taken, or rejected for good. Otherwise what is left of it stays in the
// spool, and failure describes why for the log.
func (d *deliverer) deliver(ctx context.Context, b spool.Batch) (retryAfter time.Duration, failure []zap.Field) {
	body, err := d.spool.Body(b)
	if err != nil {
		d.logger.Error("Dropped a spooled batch that could not be read", zap.Int("items", b.Items), zap.Error(err))
		d.remove(b, reasonUnreadable)
		return 0, nil
	}
	a, err := d.send(ctx, b, body)
	if err != nil {
		d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(b.Items))
		return 0, []zap.Field{zap.Error(err)}
	}
	switch {
	case a.allAccepted():
		if d.removeDelivered(b) {
			d.telemetry.AppinsightsDeliveryItemsDelivered.Add(ctx, int64(b.Items))
		}
		return 0, nil
	case a.status == http.StatusPartialContent && a.hasItemErrors():
		return d.deliverPart(ctx, b, body, a)
	case a.status == http.StatusPartialContent:
		// Not everything was accepted, and the answer does not say what:
		// send all of it again, duplicates rather than losses.
		d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(b.Items))
		return a.retryAfter, []zap.Field{zap.Int("status", a.status), zap.String("answer", "partial success without item errors")}
	case trackprotocol.RetryableRequest(a.status):
		// Whatever the body says item by item, the status is the
		// request's: all of it is sent again.
		d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(b.Items))
		return a.retryAfter, []zap.Field{zap.Int("status", a.status)}
	default:
		fields := []zap.Field{zap.Int("status", a.status), zap.Int("items", b.Items)}
		if a.hasItemErrors() {
			fields = append(fields, summarizeItems(a.body.Errors).fields()...)
		}
		d.logger.Error("Application Insights rejected a track request for good; its telemetry is dropped", fields...)
		d.remove(b, reasonRejected)
		return 0, nil
	}
}

func (d *deliverer) send(ctx context.Context, b spool.Batch, body []byte) (trackAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL, bytes.NewReader(body))
	if err != nil {
		return trackAnswer{}, err
	}
	req.Header = b.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-json-stream")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return trackAnswer{}, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return trackAnswer{}, err
	}
	return readAnswer(resp.StatusCode, resp.Header, answer, d.now()), nil
}

// deliverPart handles an answer that failed some items: the rejected ones
// are dropped, the retryable ones stay in the spool, alone.
func (d *deliverer) deliverPart(ctx context.Context, b spool.Batch, body []byte, a trackAnswer) (time.Duration, []zap.Field) {
	lines, err := trackprotocol.DecodeItems(b.Encoding(), body)
	if err != nil {
		d.logger.Error("Dropped a spooled batch that could not be decoded", zap.Int("items", b.Items), zap.Error(err))
		d.remove(b, reasonUnreadable)
		return 0, nil
	}
	failed := make(map[int]trackprotocol.ItemError, len(a.body.Errors))
	for _, e := range a.body.Errors {
		if e.Index >= 0 && e.Index < len(lines) {
			failed[e.Index] = e
		}
	}
	var keep [][]byte
	errs := make([]trackprotocol.ItemError, 0, len(failed))
	for i, line := range lines {
		e, ok := failed[i]
		if !ok {
			continue
		}
		errs = append(errs, e)
		if trackprotocol.RetryableItem(e.StatusCode) {
			keep = append(keep, line)
		}
	}
	s := summarizeItems(errs)
	d.telemetry.AppinsightsDeliveryItemsDelivered.Add(ctx, int64(len(lines)-len(failed)))
	if s.rejected > 0 {
		d.dropped(s.rejected, reasonRejected)
		d.logger.Error("Application Insights rejected telemetry items for good; they are dropped",
			append([]zap.Field{zap.Int("status", a.status), zap.Int("items_rejected", s.rejected), zap.Int("items_retried", s.retry)}, s.fields()...)...)
	}
	if len(keep) == 0 {
		d.removeDelivered(b)
		return 0, nil
	}
	rest, err := trackprotocol.EncodeItems(b.Encoding(), keep)
	if err == nil {
		_, err = d.spool.Replace(b, rest, len(keep))
	}
	if errors.Is(err, spool.ErrGone) {
		return 0, nil // evicted while it was being sent: counted there
	}
	if err != nil {
		// The whole batch stays: what ingestion took arrives twice.
		d.logger.Error("Could not rewrite a partly delivered batch; all of it will be sent again", zap.Error(err))
	}
	d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(len(keep)))
	return a.retryAfter, append([]zap.Field{zap.Int("status", a.status), zap.Int("items_retried", len(keep))}, s.fields()...)
}

// removeDelivered removes a batch ingestion is done with; it reports
// false when the batch was evicted while it was being sent.
func (d *deliverer) removeDelivered(b spool.Batch) bool {
	removed, err := d.spool.Remove(b)
	if err != nil {
		d.logger.Error("Could not remove a delivered batch from the spool; the next start sends it again", zap.Error(err))
	}
	return removed
}

// remove drops a whole batch, counting its items under reason.
func (d *deliverer) remove(b spool.Batch, reason string) {
	removed, err := d.spool.Remove(b)
	if err != nil {
		d.logger.Error("Could not remove a batch from the spool", zap.Error(err))
	}
	if removed {
		d.dropped(b.Items, reason)
	}
}
