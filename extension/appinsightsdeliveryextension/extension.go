// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/deadletter"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

type deliveryExtension struct {
	cfg       *Config
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	ledger    ledger
	activity  *trackprotocol.Activity
	// newCredential builds the Entra ID credential entra_id names.
	newCredential func() (azcore.TokenCredential, error)
	// tokens signs requests with Entra ID tokens; nil signs nothing.
	tokens *tokenSource
	// spoolOptions are how the spool is opened; tests give it a file
	// system that fails.
	spoolOptions []spool.Option

	// With a spool only, from Start on.
	spool        *spool.Spool
	deliverer    *deliverer
	stopDelivery context.CancelFunc
	delivered    chan struct{} // closed when the deliverer has returned
	intakeClosed atomic.Bool
	openSpool    atomic.Pointer[spool.Spool] // spool, for telemetry
}

func newDeliveryExtension(cfg *Config, set component.TelemetrySettings) (*deliveryExtension, error) {
	e := &deliveryExtension{cfg: cfg, logger: set.Logger, activity: trackprotocol.NewActivity(), newCredential: cfg.EntraID.newCredential}
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	e.telemetry = tb
	e.ledger = ledger{tb: tb}
	err = errors.Join(
		tb.RegisterAppinsightsDeliverySpoolBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.stats().Bytes)
			return nil
		}),
		tb.RegisterAppinsightsDeliverySpoolItemsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.stats().Items)
			return nil
		}),
		tb.RegisterAppinsightsDeliverySpoolOldestAgeCallback(func(_ context.Context, o metric.Float64Observer) error {
			if oldest := e.stats().Oldest; !oldest.IsZero() {
				o.Observe(time.Since(oldest).Seconds())
			} else {
				o.Observe(0)
			}
			return nil
		}),
	)
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return e, nil
}

// stats is what the spool holds; telemetry reads it from its own goroutine.
func (e *deliveryExtension) stats() spool.Stats {
	if s := e.openSpool.Load(); s != nil {
		return s.Stats()
	}
	return spool.Stats{}
}

var _ extensionmiddleware.HTTPClient = (*deliveryExtension)(nil)

// Start builds the Entra ID credential, if any, opens the spool, if any,
// and starts delivering what an earlier run left in it as soon as an
// exporter hands over its transport.
func (e *deliveryExtension) Start(ctx context.Context, _ component.Host) error {
	if e.cfg.EntraID.enabled() {
		tokens, err := newTokenSource(e.cfg.EntraID, e.newCredential)
		if err != nil {
			return err
		}
		if err := e.firstToken(ctx, tokens); err != nil {
			return err
		}
		e.tokens = tokens
	}
	if !e.cfg.Spool.enabled() {
		return nil
	}
	s, quarantined, err := spool.Open(e.cfg.Spool.Directory, e.cfg.Spool.MaxBytes, e.spoolOptions...)
	if err != nil {
		return fmt.Errorf("spool %q: %w", e.cfg.Spool.Directory, err)
	}
	dead, err := deadletter.Open(e.cfg.Spool.deadLetterDir(), e.cfg.Spool.DeadLetter.MaxBytes)
	if err != nil {
		_ = s.Close()
		return fmt.Errorf("spool.dead_letter %q: %w", e.cfg.Spool.deadLetterDir(), err)
	}
	if len(quarantined) > 0 {
		e.logger.Error("Moved spool files that could not be read to the quarantine folder; their telemetry is not delivered",
			zap.Strings("files", quarantined), zap.String("quarantine", filepath.Join(e.cfg.Spool.Directory, spool.QuarantineDir)))
	}
	if st := s.Stats(); st.Items > 0 {
		e.logger.Info("Delivering telemetry left in the spool by an earlier run",
			zap.Int64("items", st.Items), zap.Int64("bytes", st.Bytes), zap.Time("oldest", st.Oldest))
	}
	e.spool = s
	e.openSpool.Store(s)
	e.deliverer = newDeliverer(e.cfg.Spool, e.cfg.EntraID, s, dead, e.logger, e.ledger)
	ctx, cancel := context.WithCancel(context.Background())
	e.stopDelivery = cancel
	e.delivered = make(chan struct{})
	go func() {
		defer close(e.delivered)
		e.deliverer.run(ctx)
	}()
	return nil
}

func (e *deliveryExtension) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, next http.RoundTripper) (http.RoundTripper, error) {
		if e.tokens != nil {
			// Below the spool: what it writes holds no token.
			next = &signer{next: next, tokens: e.tokens}
		}
		direct := &passThrough{next: next, logger: e.logger}
		if e.deliverer == nil {
			return &counted{next: direct, activity: e.activity}, nil
		}
		e.deliverer.setTransport(next)
		return &counted{next: &intake{ext: e, next: direct}, activity: e.activity}, nil
	}, nil
}

// Shutdown runs after the exporters have stopped. Their last flush starts
// moments after: wait until no track request has started for a short
// quiet period and none is in flight. Then, with a spool, stop taking
// requests and deliver what it holds; what is left when shutdown_timeout
// ends stays on disk for the next start.
func (e *deliveryExtension) Shutdown(ctx context.Context) error {
	defer e.telemetry.Shutdown()
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ShutdownTimeout)
	defer cancel()
	// The quiet period counts from now, not from the last request: the
	// exporter's final flush may follow a long idle time.
	if n := e.activity.WaitQuiet(ctx, quietPeriod); n > 0 {
		e.logger.Error("Shutdown timed out with track requests still in flight; their telemetry may be lost",
			zap.Int("requests", n), zap.Duration("shutdown_timeout", e.cfg.ShutdownTimeout))
	}
	if e.deliverer == nil {
		return nil
	}
	if !e.intakeClosed.CompareAndSwap(false, true) {
		return nil // shut down already
	}
	close(e.deliverer.drain)
	select {
	case <-e.delivered:
	case <-ctx.Done():
		e.stopDelivery()
		// A worker stuck on a hung disk cannot hold the collector: give
		// the rest a moment to return, then go.
		select {
		case <-e.delivered:
		case <-time.After(time.Second):
			e.logger.Error("Delivery did not stop within shutdown_timeout; the spool stays on disk as it is")
		}
	}
	e.stopDelivery()
	if st := e.spool.Stats(); st.Items > 0 {
		e.logger.Warn("Telemetry not yet delivered stays in the spool; the next start delivers it",
			zap.Int64("items", st.Items), zap.Int64("bytes", st.Bytes), zap.String("directory", e.cfg.Spool.Directory))
	}
	return e.spool.Close()
}

// quietPeriod is how long no new track request may start before shutdown
// considers the exporter's last flush sent. The collector stops the
// pipelines before the extensions, and the exporter's Shutdown hands the
// stop to its channel over an unbuffered channel (ApplicationInsights-Go
// v0.4.4, inmemorychannel.go): when Shutdown reaches here, every
// exporter's channel has taken its stop, and what is left before its
// flush's request starts is encoding one batch, a millisecond or so. The
// margin is for a loaded machine; each millisecond of it is added to
// every runcontext-launch step (docs/benchmarks.md).
const quietPeriod = 50 * time.Millisecond

// counted tracks the requests under way, for Shutdown.
type counted struct {
	next     http.RoundTripper
	activity *trackprotocol.Activity
}

func (c *counted) RoundTrip(req *http.Request) (*http.Response, error) {
	c.activity.Start()
	defer c.activity.Done()
	return c.next.RoundTrip(req)
}
