// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package ingestiontest runs the local Application Insights ingestion
// endpoint in tests, with faults on demand: chosen status codes, partial
// success with chosen failing items, Retry-After, delays, closed
// connections, and being down until told otherwise.
package ingestiontest // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

// InstrumentationKey is the key a Server accepts unless told otherwise.
const InstrumentationKey = "11111111-2222-3333-4444-555555555555"

// Fault is what the server does to the next requests instead of, or on top
// of, serving them.
type Fault struct {
	// Status answers with this status code, every item failing with it,
	// without storing anything.
	Status int
	// RetryAfter adds a Retry-After header to the faulty answer.
	RetryAfter time.Duration
	// CloseConnection drops the connection without an answer.
	CloseConnection bool
	// Delay waits this long before serving the request.
	Delay time.Duration
	// Requests is how many requests the fault applies to; 0 means one.
	Requests int
}

// Server is a running local ingestion endpoint.
type Server struct {
	// URL is the endpoint's base URL, as a connection string's
	// IngestionEndpoint.
	URL string

	dir     string
	store   *ingestion.Store
	handler *ingestion.Handler
	addr    string

	mu       sync.Mutex
	faults   []Fault
	failItem func(index int, envelope []byte) int
	requests int
	ln       net.Listener
	srv      *http.Server
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
	s := &Server{dir: t.TempDir()}
	store, err := ingestion.OpenStore(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	s.store = store
	o := ingestion.Options{InstrumentationKey: InstrumentationKey, Store: store, FailItem: s.failItemHook}
	for _, opt := range opts {
		opt(&o)
	}
	s.handler = ingestion.NewHandler(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr + "/"
	s.serve(ln)
	t.Cleanup(s.Close)
	return s
}

// ConnectionString is what the Azure Monitor exporter needs to send here.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("InstrumentationKey=%s;IngestionEndpoint=%s", InstrumentationKey, s.URL)
}

// Inject queues a fault for the next requests.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Requests <= 0 {
		f.Requests = 1
	}
	s.faults = append(s.faults, f)
}

// FailItems makes every later request fail the valid items for which fail
// returns a status code other than 0, with a 206 answer. Nil stops it.
func (s *Server) FailItems(fail func(index int, envelope []byte) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failItem = fail
}

func (s *Server) failItemHook(index int, envelope []byte) int {
	s.mu.Lock()
	fail := s.failItem
	s.mu.Unlock()
	if fail == nil {
		return 0
	}
	return fail(index, envelope)
}

// Down stops listening: senders get connection refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address after Down.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	// The port was just released; another process may hold it briefly.
	for range 50 {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *Server) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.srv = ln, srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
}

// Requests counts the track requests that reached the server.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
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

// Close stops the server.
func (s *Server) Close() {
	s.Down()
	_ = s.store.Close()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var fault *Fault
	if len(s.faults) > 0 {
		f := s.faults[0]
		fault = &f
		if s.faults[0].Requests--; s.faults[0].Requests == 0 {
			s.faults = s.faults[1:]
		}
	}
	s.mu.Unlock()

	if fault == nil {
		s.route(w, r)
		return
	}
	if fault.Delay > 0 {
		time.Sleep(fault.Delay)
	}
	switch {
	case fault.CloseConnection:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case fault.Status != 0:
		if fault.RetryAfter > 0 {
			// The date form: the one ApplicationInsights-Go understands.
			w.Header().Set("Retry-After", time.Now().Add(fault.RetryAfter).UTC().Format(http.TimeFormat))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(fault.Status)
		_, _ = fmt.Fprintf(w, `{"itemsReceived":0,"itemsAccepted":0,"errors":[{"index":0,"statusCode":%d,"message":%q}]}`,
			fault.Status, http.StatusText(fault.Status))
	default:
		s.route(w, r)
	}
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	for _, p := range ingestion.TrackPaths {
		if r.URL.Path == p {
			s.handler.ServeHTTP(w, r)
			return
		}
	}
	http.NotFound(w, r)
}
