// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
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

// maxAnswer bounds how much of an answer is read: ingestion's are small.
const maxAnswer = 4 << 20

// maxRetryAfter caps the wait ingestion's Retry-After may ask for.
const maxRetryAfter = 10 * time.Minute

// expireEvery is how often the spool's age bound is applied.
const expireEvery = time.Second

// deliverer sends the spool's requests to ingestion, num_consumers at once,
// and removes each once ingestion has taken every item, or moves what it
// will never take to the dead letters.
//
// Backoff is per request: a failing request waits on its own while the
// others go on. When num_consumers requests in a row failed on their first
// attempt (an outage), delivery pauses as a whole and then probes with one
// request at a time until one succeeds, so that a recovering ingestion is
// not hammered.
type deliverer struct {
	cfg SpoolConfig
	// keyless: requests are signed with Entra ID tokens, which changes
	// what a 401 or 403 asks the operator to check.
	keyless   bool
	spool     *spool.Spool
	dead      *deadletter.Folder
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

	// drain, closed at shutdown, makes delivery return once the spool is
	// empty.
	drain chan struct{}

	mu sync.Mutex
	// failStreak counts the requests that failed on their first attempt
	// since ingestion last took one: num_consumers of them mean an
	// outage. A request that keeps failing adds once, so it cannot pause
	// the others.
	failStreak int
	// outageFailures counts failures during an outage, for its pause.
	outageFailures int
	// lastSuccess is when ingestion last took a request.
	lastSuccess time.Time
	// pauseUntil holds all delivery during an outage.
	pauseUntil time.Time
	// probing is set while the one request of an outage is under way.
	probing bool
	// failingSince is when the current failure episode began; zero when
	// delivery works.
	failingSince time.Time
	lastExpire   time.Time
	// attempts holds, per request in flight or backing off, its failures.
	attempts map[*spool.Batch]*attempt
}

// attempt is what the deliverer remembers of a request that failed.
type attempt struct {
	// failures in a row, for its own backoff.
	failures int
	// strikes are failures while other requests were delivered: they
	// count towards max_attempts.
	strikes  int
	lastTry  time.Time
	lastCode int
}

func newDeliverer(cfg SpoolConfig, keyless bool, s *spool.Spool, dead *deadletter.Folder, logger *zap.Logger, tb *metadata.TelemetryBuilder) *deliverer {
	return &deliverer{
		cfg: cfg, keyless: keyless, spool: s, dead: dead, logger: logger, telemetry: tb, now: time.Now,
		transportReady: make(chan struct{}),
		drain:          make(chan struct{}),
		attempts:       make(map[*spool.Batch]*attempt),
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

// run delivers with num_consumers workers until ctx ends, or, once drain
// is closed, until the spool is empty.
func (d *deliverer) run(ctx context.Context) {
	select {
	case <-d.transportReady:
	case <-d.drain:
		return // no exporter ever used the middleware
	case <-ctx.Done():
		return
	}
	var wg sync.WaitGroup
	for range d.cfg.NumConsumers {
		wg.Go(func() { d.work(ctx) })
	}
	wg.Wait()
}

func (d *deliverer) work(ctx context.Context) {
	for ctx.Err() == nil {
		d.expire(ctx)
		if wait := d.admit(); wait > 0 {
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		b, next, changed := d.spool.Claim(d.now())
		if b == nil {
			d.endProbe()
			if d.draining() && d.spool.Stats().Requests == 0 {
				return
			}
			// Wait for a request to be added or released, or for the next
			// one's backoff to pass; while draining, look again now and
			// then: only requests under way or backing off are left.
			wait := time.Hour
			if !next.IsZero() {
				wait = max(next.Sub(d.now()), time.Millisecond)
			} else if d.draining() {
				wait = d.cfg.InitialInterval
			}
			timer := time.NewTimer(wait)
			select {
			case <-changed:
			case <-timer.C:
			case <-d.drain:
			case <-ctx.Done():
				timer.Stop()
				return
			}
			timer.Stop()
			continue
		}
		d.deliver(ctx, b)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *deliverer) draining() bool {
	select {
	case <-d.drain:
		return true
	default:
		return false
	}
}

// admit says how long a worker must wait before it claims a request: the
// outage pause, or while another worker probes.
func (d *deliverer) admit() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if now.Before(d.pauseUntil) {
		return d.pauseUntil.Sub(now)
	}
	if d.failStreak >= d.cfg.NumConsumers {
		if d.probing {
			return d.cfg.InitialInterval
		}
		d.probing = true
	}
	return 0
}

// endProbe lets another worker probe when this one found nothing to send.
func (d *deliverer) endProbe() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.probing = false
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

// waitAfter is how long to wait after the n-th failure in a row: the
// backoff, or a longer Retry-After up to maxRetryAfter, never past max_age.
func (d *deliverer) waitAfter(n int, retryAfter time.Duration) time.Duration {
	return min(max(d.backoff(n), min(retryAfter, maxRetryAfter)), d.cfg.MaxAge)
}

// attemptOf is what the deliverer remembers of b's failures; mu held.
func (d *deliverer) attemptOf(b *spool.Batch) *attempt {
	a := d.attempts[b]
	if a == nil {
		a = &attempt{}
		d.attempts[b] = a
	}
	return a
}

// expire moves what has waited longer than max_age to the dead letters, at
// most once per expireEvery, whichever worker comes first.
func (d *deliverer) expire(ctx context.Context) {
	d.mu.Lock()
	now := d.now()
	if now.Sub(d.lastExpire) < expireEvery {
		d.mu.Unlock()
		return
	}
	d.lastExpire = now
	d.mu.Unlock()
	old := d.spool.ClaimCreatedBefore(now.Add(-d.cfg.MaxAge))
	items := 0
	for _, b := range old {
		items += b.Items
		d.deadLetterWhole(ctx, b, reasonExpired, d.lastCode(b), fmt.Sprintf("not delivered within max_age %s", d.cfg.MaxAge))
	}
	if items > 0 {
		d.logger.Error("Moved telemetry older than the spool's max_age to the dead letters",
			zap.Int("items", items), zap.Duration("max_age", d.cfg.MaxAge), zap.String("dead_letters", d.dead.Dir()))
	}
}

func (d *deliverer) lastCode(b *spool.Batch) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.attempts[b]; a != nil {
		return a.lastCode
	}
	return 0
}

func withReason(reason string) metric.AddOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason)))
}

func (d *deliverer) dropped(ctx context.Context, items int, reason string) {
	d.telemetry.AppinsightsDeliveryItemsDropped.Add(ctx, int64(items), withReason(reason))
}

// deliver sends one claimed request and settles it: removed, rewritten,
// split, dead-lettered, or released to be sent again after its backoff.
func (d *deliverer) deliver(ctx context.Context, b *spool.Batch) {
	req, err := d.spool.Read(b)
	if err != nil {
		d.forget(b)
		if !errors.Is(err, spool.ErrCorrupt) {
			_ = d.spool.Remove(b)
		}
		d.dropped(ctx, b.Items, reasonUnreadable)
		d.logger.Error("A spooled request could not be read; its telemetry is lost (a corrupt file is kept in the quarantine folder)",
			zap.Int("items", b.Items), zap.Error(err))
		return // ingestion had no part in it: an outage goes on
	}
	sent := d.now()
	a, err := d.send(ctx, req)
	if ctx.Err() != nil {
		d.spool.Release(b, time.Time{})
		return
	}
	switch {
	case err != nil:
		d.failed(ctx, b, sent, 0, 0, err.Error())
	case a.allAcceptedOf(b.Items):
		d.removeDelivered(ctx, b)
		d.succeeded()
	case a.status == http.StatusPartialContent || a.status == http.StatusBadRequest:
		failed, ok := a.itemErrorsOf(b.Items)
		if !ok {
			// The answer does not say which items failed, or contradicts
			// the request: send all of it again, duplicates rather than
			// losses.
			d.failed(ctx, b, sent, a.status, a.retryAfter, "the answer does not say which items failed")
			return
		}
		d.deliverPart(ctx, b, sent, req, a, failed)
		d.succeeded()
	case a.status == http.StatusRequestEntityTooLarge:
		d.split(ctx, b, req)
		d.succeeded()
	default:
		// 401, 403 and 404 mean "not you" or "not here" (a key or a
		// resource changed, a proxy in the way); 408, 429, 439 and 5xx
		// mean "not now". None says the telemetry is bad: it stays.
		d.failed(ctx, b, sent, a.status, a.retryAfter, "")
	}
}

func (d *deliverer) send(ctx context.Context, r spool.Request) (trackAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return trackAnswer{}, err
	}
	req.Header = r.Header.Clone()
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

// succeeded notes that ingestion took a request: an episode of failures,
// and any outage, is over.
func (d *deliverer) succeeded() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.failingSince.IsZero() {
		d.logger.Info("Delivering to Application Insights again",
			zap.Duration("failing_for", d.now().Sub(d.failingSince).Round(time.Second)))
	}
	d.failStreak, d.outageFailures, d.failingSince, d.pauseUntil, d.probing = 0, 0, time.Time{}, time.Time{}, false
	d.lastSuccess = d.now()
}

// failed handles a whole request ingestion did not take: it is sent again
// after its own backoff, unless it kept failing while others were
// delivered, when it goes to the dead letters.
//
// sent is when the attempt began: a failure of an attempt that began before
// ingestion last took a request belongs to the episode that success ended,
// and starts no new one.
func (d *deliverer) failed(ctx context.Context, b *spool.Batch, sent time.Time, status int, retryAfter time.Duration, why string) {
	d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(b.Items))
	d.mu.Lock()
	now := d.now()
	a := d.attemptOf(b)
	a.failures++
	a.lastCode = status
	// A strike only when ingestion took another request since this one
	// was last tried: in an outage nothing is delivered, and nothing is
	// given up on.
	if d.lastSuccess.After(a.lastTry) {
		a.strikes++
	}
	a.lastTry = now
	exhausted := a.strikes >= d.cfg.MaxAttempts
	wait := d.waitAfter(a.failures, retryAfter)

	if a.failures == 1 {
		d.failStreak++
	}
	d.probing = false
	if d.failStreak >= d.cfg.NumConsumers {
		d.outageFailures++
		d.pauseUntil = now.Add(d.waitAfter(d.outageFailures, retryAfter))
	}
	firstOfEpisode := d.failingSince.IsZero() && !sent.Before(d.lastSuccess)
	if firstOfEpisode {
		d.failingSince = now
	}
	d.mu.Unlock()

	fields := []zap.Field{zap.String("what_to_do", hint(status, d.keyless)), zap.Int("items", b.Items), zap.Duration("retry_in", wait.Round(time.Millisecond))}
	if status != 0 {
		fields = append(fields, zap.Int("status", status))
	}
	if why != "" {
		fields = append(fields, zap.String("error", why))
	}
	if firstOfEpisode {
		d.logger.Warn("Could not deliver to Application Insights; the telemetry stays in the spool and is sent again", fields...)
	} else {
		d.logger.Debug("Delivery failed again", fields...)
	}
	if exhausted {
		d.logger.Error("A request failed max_attempts times while others were delivered; it moves to the dead letters",
			zap.Int("items", b.Items), zap.Int("status", status), zap.Int("max_attempts", d.cfg.MaxAttempts), zap.String("dead_letters", d.dead.Dir()))
		d.deadLetterWhole(ctx, b, reasonRetriesExhausted, status, why)
		return
	}
	d.spool.Release(b, now.Add(wait))
}

// hint tells an operator what a failure asks of them.
func hint(status int, keyless bool) string {
	switch {
	case keyless && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		return "ingestion refused the Entra ID token, even a fresh one: check that the identity has the Monitoring Metrics Publisher role on the Application Insights resource"
	}
	switch status {
	case 0:
		return "ingestion could not be reached: check the network, DNS and proxy to the connection string's IngestionEndpoint"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "ingestion refused the credentials: check the connection string's instrumentation key, and whether the resource requires Microsoft Entra ID (local authentication disabled)"
	case http.StatusNotFound:
		return "ingestion or a proxy does not know the path: check the connection string's IngestionEndpoint and any proxy in between"
	case http.StatusPaymentRequired, http.StatusTooManyRequests, 439:
		return "Application Insights is throttling: check the resource's daily cap and sampling"
	case http.StatusBadRequest, http.StatusPartialContent:
		return "ingestion's answer did not say which items failed; the request is sent again whole"
	default:
		return "Application Insights is not taking telemetry now; nothing to do but wait, the spool keeps it"
	}
}

// deliverPart settles an answer that failed some items: accepted items
// are delivered, items ingestion refuses for good go to the dead letters,
// and the retryable ones stay in the spool, alone.
func (d *deliverer) deliverPart(ctx context.Context, b *spool.Batch, sent time.Time, req spool.Request, a trackAnswer, failed map[int]trackprotocol.ItemError) {
	items, err := trackprotocol.DecodeItems(req.Encoding(), req.Body)
	if err != nil || len(items) != b.Items {
		d.failed(ctx, b, sent, a.status, 0, "the spooled request could not be split into its items")
		return
	}
	var keep [][]byte
	var rejected []deadletter.Record
	var errs []trackprotocol.ItemError
	for i, item := range items {
		e, ok := failed[i]
		if !ok {
			continue
		}
		errs = append(errs, e)
		if trackprotocol.RetryableItem(e.StatusCode) {
			keep = append(keep, item)
			continue
		}
		rejected = append(rejected, deadletter.Record{Time: d.now(), Reason: reasonRejected, Status: e.StatusCode, Message: e.Message, Item: item})
	}
	d.telemetry.AppinsightsDeliveryItemsDelivered.Add(ctx, int64(len(items)-len(failed)))
	s := summarizeItems(errs)
	if len(rejected) > 0 {
		d.deadLetter(ctx, rejected, reasonRejected)
		d.logger.Error("Application Insights rejected telemetry items for good; they move to the dead letters",
			append([]zap.Field{zap.Int("status", a.status), zap.Int("items_rejected", s.rejected), zap.Int("items_retried", s.retry), zap.String("dead_letters", d.dead.Dir())}, s.fields()...)...)
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
		// The whole request stays: what ingestion took arrives twice.
		d.logger.Error("Could not rewrite a partly delivered request; all of it will be sent again", zap.Error(err))
	}
	d.telemetry.AppinsightsDeliveryItemsRetried.Add(ctx, int64(len(keep)))
	d.mu.Lock()
	retried := d.attemptOf(b)
	retried.failures++
	wait := d.waitAfter(retried.failures, a.retryAfter)
	d.mu.Unlock()
	d.spool.Release(b, d.now().Add(wait))
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
	}
	d.logger.Error("Application Insights refused an item as too large; it moves to the dead letters",
		zap.Int("items", b.Items), zap.String("dead_letters", d.dead.Dir()), zap.NamedError("split_error", err))
	d.deadLetterWhole(ctx, b, reasonTooLarge, http.StatusRequestEntityTooLarge, "request entity too large")
}

// deadLetterWhole moves every item of a claimed request to the dead
// letters and removes it from the spool.
func (d *deliverer) deadLetterWhole(ctx context.Context, b *spool.Batch, reason string, status int, message string) {
	now := d.now()
	var records []deadletter.Record
	req, err := d.spool.Read(b)
	if err == nil {
		items, derr := trackprotocol.DecodeItems(req.Encoding(), req.Body)
		if derr == nil {
			for _, item := range items {
				records = append(records, deadletter.Record{Time: now, Reason: reason, Status: status, Message: message, Item: item})
			}
		} else {
			records = append(records, deadletter.Record{Time: now, Reason: reason, Status: status,
				Message: message + "; body kept whole, base64 as sent: " + derr.Error(), Raw: base64.StdEncoding.EncodeToString(req.Body)})
		}
	}
	if err != nil {
		d.forget(b)
		d.dropped(ctx, b.Items, reasonUnreadable)
		return
	}
	if d.deadLetter(ctx, records, reason) {
		// Counted by item, whatever form the records took.
		if extra := b.Items - len(records); extra > 0 {
			d.telemetry.AppinsightsDeliveryItemsDeadLettered.Add(ctx, int64(extra), withReason(reason))
		}
	}
	d.remove(b)
}

// deadLetter writes records and counts them; when the folder cannot be
// written, the items are counted as dropped under the same reason.
func (d *deliverer) deadLetter(ctx context.Context, records []deadletter.Record, reason string) bool {
	if err := d.dead.Add(records); err != nil {
		d.logger.Error("Could not write to the dead letters; the items are lost", zap.Int("items", len(records)), zap.Error(err))
		d.dropped(ctx, len(records), reason)
		return false
	}
	d.telemetry.AppinsightsDeliveryItemsDeadLettered.Add(ctx, int64(len(records)), withReason(reason))
	return true
}

// removeDelivered removes a request ingestion took whole.
func (d *deliverer) removeDelivered(ctx context.Context, b *spool.Batch) {
	d.telemetry.AppinsightsDeliveryItemsDelivered.Add(ctx, int64(b.Items))
	d.remove(b)
}

// remove deletes a claimed request the deliverer is done with.
func (d *deliverer) remove(b *spool.Batch) {
	d.forget(b)
	if err := d.spool.Remove(b); err != nil {
		d.logger.Error("Could not remove a request from the spool; the next start sends it again", zap.Error(err))
	}
}

func (d *deliverer) forget(b *spool.Batch) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.attempts, b)
}
