// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds the delivery loop: workers that claim a request, send
// it, and hand the outcome to settle.go. What an answer means is in
// outcome.go, when to pause in outage.go, how long to wait in backoff.go,
// what to count in ledger.go, and what to tell the operator in hint.go.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
)

// expireEvery is how often the spool's age bound is applied.
const expireEvery = time.Second

// deliverer sends the spool's requests to ingestion, num_consumers at once,
// and settles each: removed once ingestion has taken every item, what it
// will never take moved to the dead letters, the rest sent again after
// the request's own backoff.
type deliverer struct {
	cfg SpoolConfig
	// entra is the keyless configuration, zero without it: a 401, a 403
	// and a token that cannot be had ask for other checks then.
	entra   EntraIDConfig
	spool   *spool.Spool
	dead    *deadletter.Folder
	logger  *zap.Logger
	ledger  ledger
	now     func() time.Time
	backoff backoff
	outage  *outage

	// client sends with the exporter's own HTTP transport (TLS, proxy),
	// the one the middleware wraps, and follows ingestion's redirects
	// (307/308 to a regional endpoint) as the exporter's client would;
	// delivery waits for it.
	transportMu    sync.Mutex
	transport      http.RoundTripper // the first exporter's
	transportReady chan struct{}
	client         *http.Client

	// drain, closed at shutdown, makes delivery return once the spool is
	// empty.
	drain chan struct{}

	expireMu   sync.Mutex
	lastExpire time.Time

	// keys is the instrumentation key the exporters send with now, which
	// a backlog refused for an older key is sent again with (rekey.go).
	keys    keyring
	rekeyed sync.Once
}

func newDeliverer(cfg SpoolConfig, entra EntraIDConfig, s *spool.Spool, dead *deadletter.Folder, logger *zap.Logger, l ledger) *deliverer {
	b := newBackoff(cfg)
	return &deliverer{
		cfg: cfg, entra: entra, spool: s, dead: dead, logger: logger, ledger: l, now: time.Now,
		backoff: b, outage: newOutage(cfg.NumConsumers, b),
		transportReady: make(chan struct{}),
		drain:          make(chan struct{}),
	}
}

// setTransport gives the deliverer the transport to send with: the first
// exporter to wrap its client provides it, and a later exporter whose TLS
// or proxy settings differ is warned about, since the spool delivers its
// telemetry with the first one's.
func (d *deliverer) setTransport(rt http.RoundTripper) {
	d.transportMu.Lock()
	defer d.transportMu.Unlock()
	if d.transport == nil {
		d.transport = rt
		d.client = &http.Client{Transport: rt, Timeout: d.cfg.Timeout}
		close(d.transportReady)
		return
	}
	if why := transportDiffers(d.transport, rt); why != "" {
		d.logger.Warn("Exporters sharing appinsights_delivery differ in their HTTP settings; the spool delivers the telemetry of all of them with the first exporter's. Give an exporter with other TLS or proxy settings an appinsights_delivery of its own, with its own spool directory",
			zap.String("differs_in", why))
	}
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
		wait, p := d.outage.admit(d.now())
		if wait > 0 {
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		found, next, changed := d.deliverNext(ctx, p)
		if found {
			continue
		}
		if d.draining() && d.spool.Stats().Requests == 0 {
			return
		}
		// Wait for a request to be added or released, or for the next
		// one's backoff to pass; while draining, look again now and then:
		// only requests under way or backing off are left.
		wait = time.Hour
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
		}
		timer.Stop()
	}
}

// deliverNext delivers the oldest ready request, holding the outage's
// probe, if it was given one, until it returns, whatever happens. With no
// request ready it returns when to look again.
func (d *deliverer) deliverNext(ctx context.Context, p probe) (found bool, next time.Time, changed <-chan struct{}) {
	defer p.end()
	b, next, changed := d.spool.Claim(d.now())
	if b == nil {
		return false, next, changed
	}
	d.deliver(ctx, b)
	return true, time.Time{}, nil
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

// deliver sends one claimed request and settles it.
func (d *deliverer) deliver(ctx context.Context, b *spool.Batch) {
	req, err := d.spool.Read(b)
	if err != nil {
		d.unreadable(ctx, b, err)
		return // ingestion had no part in it: an outage goes on
	}
	sent := d.now()
	a, err := d.send(ctx, req)
	if ctx.Err() != nil {
		d.spool.Release(b, time.Time{})
		return
	}
	o := classify(a, err, b.Items)
	switch o.verdict {
	case verdictDelivered:
		d.succeeded()
		d.ledger.delivered(ctx, b.Unsettled())
		d.remove(b)
	case verdictItems:
		d.succeeded()
		d.settleItems(ctx, b, req, o)
	case verdictSplit:
		d.succeeded()
		d.split(ctx, b, req)
	case verdictKeyRefused:
		if d.rekey(ctx, b, req) {
			return
		}
		d.retry(ctx, b, sent, o)
	case verdictRetry:
		d.retry(ctx, b, sent, o)
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
	body, err := readAnswerBody(resp)
	if err != nil {
		return trackAnswer{}, err
	}
	return readAnswer(resp.StatusCode, resp.Header, body, d.now()), nil
}

// succeeded notes that ingestion took telemetry.
func (d *deliverer) succeeded() {
	if failingFor := d.outage.succeeded(d.now()); failingFor > 0 {
		d.logger.Info("Delivering to Application Insights again", zap.Duration("failing_for", failingFor.Round(time.Second)))
	}
}

// expire moves what has waited longer than max_age to the dead letters, at
// most once per expireEvery, whichever worker comes first.
func (d *deliverer) expire(ctx context.Context) {
	d.expireMu.Lock()
	now := d.now()
	if now.Sub(d.lastExpire) < expireEvery {
		d.expireMu.Unlock()
		return
	}
	d.lastExpire = now
	d.expireMu.Unlock()
	items := 0
	for _, b := range d.spool.ClaimCreatedBefore(now.Add(-d.cfg.MaxAge)) {
		items += b.Unsettled()
		d.deadLetterWhole(ctx, b, reasonExpired, lastStatus(b), fmt.Sprintf("not delivered within max_age %s", d.cfg.MaxAge))
	}
	if items > 0 {
		d.logger.Error("Moved telemetry older than the spool's max_age to the dead letters",
			zap.Int("items", items), zap.Duration("max_age", d.cfg.MaxAge), zap.String("dead_letters", d.dead.Dir()))
	}
}
