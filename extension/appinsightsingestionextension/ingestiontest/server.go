// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package ingestiontest runs the local Application Insights ingestion
// endpoint in tests, behind tracktest's faults on demand: it checks every
// envelope as the service does and stores the accepted ones, so a test
// reads what Application Insights would have kept.
package ingestiontest // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"
)

// InstrumentationKey is the key a Server accepts unless told otherwise.
const InstrumentationKey = "11111111-2222-3333-4444-555555555555"

// Fault is what the server does to the next requests; see tracktest.Fault.
type Fault = tracktest.Fault

// Server is a running local ingestion endpoint with fault injection.
type Server struct {
	*tracktest.Server
	dir string
}

// Option changes a Server.
type Option func(*ingestion.Options)

// WithInstrumentationKey makes the server accept another key.
func WithInstrumentationKey(key string) Option {
	return func(o *ingestion.Options) { o.InstrumentationKey = key }
}

// New starts a server on a free loopback port; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	store, err := ingestion.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	o := ingestion.Options{InstrumentationKey: InstrumentationKey, Store: store}
	for _, opt := range opts {
		opt(&o)
	}
	srv := tracktest.New(t, tracktest.WithHandler(func(failItem tracktest.FailItemFunc) http.Handler {
		o.FailItem = failItem
		return ingestion.NewHandler(o)
	}))
	return &Server{Server: srv, dir: dir}
}

// ConnectionString is what the Azure Monitor exporter needs to send here.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("InstrumentationKey=%s;IngestionEndpoint=%s", InstrumentationKey, s.URL)
}

// EnvelopesPath is the file the server stores accepted envelopes in.
func (s *Server) EnvelopesPath() string { return filepath.Join(s.dir, ingestion.EnvelopesFile) }

// Envelopes reads every envelope the server has accepted so far.
func (s *Server) Envelopes(t testing.TB) []ingestion.Envelope {
	t.Helper()
	envs, err := ingestion.ReadEnvelopes(s.EnvelopesPath())
	if err != nil {
		t.Fatal(err)
	}
	return envs
}
