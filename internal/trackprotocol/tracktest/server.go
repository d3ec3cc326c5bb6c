// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package tracktest runs a track endpoint in tests, with faults on demand:
// chosen status codes, partial success with chosen failing items,
// Retry-After, delays, closed connections, and being down until told
// otherwise. Behind the faults it serves any handler of the track protocol;
// by default one that accepts every item and keeps it in memory. The
// ingestion extension's ingestiontest puts its real endpoint behind it.
package tracktest // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// Fault is what the server does to the next requests instead of, or on top
// of, serving them.
type Fault struct {
	// Status answers with this status code, every item failing with it,
	// without serving the request.
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

// FailItemFunc may fail a valid item with the status code it returns; 0
// accepts it.
type FailItemFunc func(index int, item []byte) int

// Server is a running track endpoint.
type Server struct {
	// URL is the endpoint's base URL, as a connection string's
	// IngestionEndpoint.
	URL string

	handler http.Handler
	addr    string

	mu          sync.Mutex
	faults      []Fault
	failItem    FailItemFunc
	refuseKey   string
	failRequest func(items [][]byte) int
	validToken  func(token string) bool
	refused     int
	requests    int
	inFlight    int
	maxInFlight int
	accepted    [][]byte
	srv         *http.Server
}

// Option changes a Server.
type Option func(*Server)

// WithHandler serves track requests with the handler newHandler makes, in
// place of the in-memory one. newHandler gets the function that fails the
// items FailItems chooses; the handler must call it for every valid item.
func WithHandler(newHandler func(failItem FailItemFunc) http.Handler) Option {
	return func(s *Server) { s.handler = newHandler(s.FailItem) }
}

// New starts a server on a free loopback port; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	s.handler = http.HandlerFunc(s.acceptInMemory)
	for _, opt := range opts {
		opt(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.URL = "http://" + s.addr + "/"
	s.serve(ln)
	t.Cleanup(s.Down)
	return s
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

// ClearFaults drops the faults still queued.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// FailItems makes every later request fail the valid items for which fail
// returns a status code other than 0, with a 206 answer. Nil stops it.
func (s *Server) FailItems(fail FailItemFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failItem = fail
}

// RefuseKey makes every later item sent with instrumentation key key
// fail with 400 "Invalid instrumentation key", as ingestion answers a
// connection string whose key is wrong or whose resource is gone; ""
// stops it.
func (s *Server) RefuseKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseKey = key
}

// FailRequests makes every later request for whose items fail returns a
// status code other than 0 fail whole with that code, as Fault.Status
// does: a request ingestion refuses for its content. Nil stops it.
func (s *Server) FailRequests(fail func(items [][]byte) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRequest = fail
}

// MaxInFlight is the most requests the server has served at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// FailItem is the status FailItems chose for an item, 0 when none.
func (s *Server) FailItem(index int, item []byte) int {
	s.mu.Lock()
	fail := s.failItem
	s.mu.Unlock()
	if fail == nil {
		return 0
	}
	return fail(index, item)
}

// Down stops listening: senders get connection refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
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
	s.srv = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
}

// Requests counts the requests that reached the server.
// RequireToken makes the server answer 401 to every request without an
// "Authorization: Bearer <token>" header whose token valid accepts, as
// ingestion does for a resource with local authentication disabled. Nil
// stops it.
func (s *Server) RequireToken(valid func(token string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.validToken = valid
}

// Unauthorized counts the requests RequireToken refused.
func (s *Server) Unauthorized() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Accepted returns the items the in-memory handler accepted, in order.
func (s *Server) Accepted() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accepted)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	var fault *Fault
	if valid := s.validToken; valid != nil {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !valid(token) {
			s.refused++
			fault = &Fault{Status: http.StatusUnauthorized}
		}
	}
	if fault == nil && len(s.faults) > 0 {
		f := s.faults[0]
		fault = &f
		if s.faults[0].Requests--; s.faults[0].Requests == 0 {
			s.faults = s.faults[1:]
		}
	}
	failRequest := s.failRequest
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if fault == nil && failRequest != nil {
		body, err := trackprotocol.ReadBody(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if items, err := trackprotocol.DecodeItems(r.Header.Get("Content-Encoding"), body); err == nil {
			if status := failRequest(items); status != 0 {
				fault = &Fault{Status: status}
			}
		}
	}

	if fault != nil && fault.Delay > 0 {
		time.Sleep(fault.Delay)
	}
	switch {
	case fault != nil && fault.CloseConnection:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case fault != nil && fault.Status != 0:
		if fault.RetryAfter > 0 {
			// The date form: the one ApplicationInsights-Go understands.
			w.Header().Set("Retry-After", time.Now().Add(fault.RetryAfter).UTC().Format(http.TimeFormat))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(fault.Status)
		_, _ = fmt.Fprintf(w, `{"itemsReceived":0,"itemsAccepted":0,"errors":[{"index":0,"statusCode":%d,"message":%q}]}`,
			fault.Status, http.StatusText(fault.Status))
	case trackprotocol.IsTrackPath(r.URL.Path):
		s.handler.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// acceptInMemory accepts every item FailItems does not fail.
func (s *Server) acceptInMemory(w http.ResponseWriter, r *http.Request) {
	var status int
	var resp trackprotocol.Response
	body, err := trackprotocol.ReadBody(r.Body)
	var items [][]byte
	if err == nil {
		items, err = trackprotocol.DecodeItems(r.Header.Get("Content-Encoding"), body)
	}
	switch {
	case err != nil:
		status, resp = trackprotocol.Answer(1, []trackprotocol.ItemError{{StatusCode: http.StatusBadRequest, Message: err.Error()}})
	case len(items) == 0:
		status, resp = trackprotocol.NoItems()
	default:
		var errs []trackprotocol.ItemError
		var accepted [][]byte
		s.mu.Lock()
		refuseKey := s.refuseKey
		s.mu.Unlock()
		for i, item := range items {
			if refuseKey != "" && trackprotocol.InstrumentationKey(item) == refuseKey {
				errs = append(errs, trackprotocol.ItemError{Index: i, StatusCode: http.StatusBadRequest, Message: "Invalid instrumentation key"})
				continue
			}
			if code := s.FailItem(i, item); code != 0 {
				errs = append(errs, trackprotocol.ItemError{Index: i, StatusCode: code, Message: http.StatusText(code)})
				continue
			}
			accepted = append(accepted, item)
		}
		s.mu.Lock()
		s.accepted = append(s.accepted, accepted...)
		s.mu.Unlock()
		status, resp = trackprotocol.Answer(len(items), errs)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}
