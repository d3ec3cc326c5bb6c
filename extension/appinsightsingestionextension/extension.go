// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsingestionextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension"

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
	"golang.org/x/net/netutil"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

type ingestionExtension struct {
	cfg    *Config
	logger *zap.Logger
	store  *ingestion.Store
	server *http.Server
	done   chan struct{}
	// activity lets shutdown wait for the exporter's last flush.
	activity *trackprotocol.Activity
}

// Extensions stop in no set order, and the exporter sends its last flush
// only as it stops: keep serving until no request has come for this long
// (from the start of shutdown), at most lingerTimeout. Twice the delivery
// extension's quiet period, so that a spool that starts draining after
// its own quiet period still finds this endpoint.
const (
	lingerQuiet   = 100 * time.Millisecond
	lingerTimeout = 15 * time.Second
)

func newIngestionExtension(cfg *Config, logger *zap.Logger) *ingestionExtension {
	return &ingestionExtension{cfg: cfg, logger: logger, activity: trackprotocol.NewActivity()}
}

func (e *ingestionExtension) Start(_ context.Context, _ component.Host) error {
	store, err := ingestion.OpenStore(e.cfg.Directory)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", e.cfg.Endpoint)
	if err != nil {
		_ = store.Close()
		return err
	}
	e.store = store
	track := ingestion.NewHandler(ingestion.Options{
		InstrumentationKey: e.cfg.InstrumentationKey,
		Store:              store,
		OnResponse:         e.logResponse,
	}).Routes()
	// The stored telemetry is this machine's user's: the query API and
	// the page answer loopback clients only.
	api := query.Loopback(&query.API{Store: query.Open(e.cfg.Directory)})
	page := query.Loopback(query.Page())
	e.server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case query.IsQueryPath(r.URL.Path):
				api.ServeHTTP(w, r)
				return
			case query.IsPagePath(r.URL.Path):
				page.ServeHTTP(w, r)
				return
			}
			e.noteRequests(track).ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		// A slow sender cannot hold a connection: a 64 MiB body arrives
		// well within this on loopback.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
	// At most maxConnections at once; the others wait in the kernel's
	// backlog until one closes. Closing the listener ends an Accept that
	// waits for a slot, so a full endpoint cannot hold the shutdown.
	ln = netutil.LimitListener(ln, maxConnections)
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("Local ingestion endpoint stopped", zap.Error(err))
		}
	}()
	e.logger.Info("Local Application Insights ingestion endpoint listening",
		zap.String("endpoint", "http://"+ln.Addr().String()+"/v2.1/track"),
		zap.String("query_api", "http://"+ln.Addr().String()+"/v1/apps/local/query"),
		zap.String("query_page", "http://"+ln.Addr().String()+"/"),
		zap.String("envelopes_file", store.Path()))
	return nil
}

// logResponse makes rejected items visible in the collector's log, as the
// Azure portal would show them missing.
func (e *ingestionExtension) logResponse(status int, resp trackprotocol.Response) {
	if len(resp.Errors) == 0 {
		e.logger.Debug("Accepted telemetry items", zap.Int("items", resp.ItemsAccepted))
		return
	}
	first := resp.Errors[0]
	e.logger.Warn("Rejected telemetry items",
		zap.Int("status", status),
		zap.Int("items_received", resp.ItemsReceived),
		zap.Int("items_accepted", resp.ItemsAccepted),
		zap.Int("first_status", first.StatusCode),
		zap.String("first_message", first.Message))
}

// maxConnections bounds the connections served at once: the exporters of
// one collector open a handful.
const maxConnections = 64

func (e *ingestionExtension) noteRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.activity.Start()
		defer e.activity.Done()
		next.ServeHTTP(w, r)
	})
}

func (e *ingestionExtension) Shutdown(ctx context.Context) error {
	if e.server == nil {
		return nil
	}
	lingerCtx, cancel := context.WithTimeout(ctx, lingerTimeout)
	e.activity.WaitQuiet(lingerCtx, lingerQuiet)
	cancel()
	err := e.server.Shutdown(ctx)
	<-e.done
	return errors.Join(err, e.store.Close())
}
