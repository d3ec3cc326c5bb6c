// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // a step's SDK may compress (OTEL_EXPORTER_OTLP_COMPRESSION=gzip)
	"google.golang.org/grpc/metadata"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
)

// A step that logs through an OpenTelemetry SDK often prints the same
// lines to its console too (a StreamHandler next to the OTLP handler, as
// opentelemetry-instrument sets up). With --capture=auto the step's OTLP
// goes through the launcher, which notes the log records the step sent;
// a captured line that one of them already carries is not sent again.
// See the launcher's README, "No line twice".

// maxSeen bounds the index of what the step's SDK sent.
const maxSeen = 200_000

// seenIndex holds the bodies and exceptions of the step's own log records
// that the collector took, each for keep after it arrived; each one
// cancels at most one captured line.
type seenIndex struct {
	keep time.Duration

	mu         sync.Mutex
	bodies     map[string][]time.Time // when each copy arrived, oldest first
	exceptions map[string][]time.Time
	size       int
}

func newSeenIndex(keep time.Duration) *seenIndex {
	return &seenIndex{keep: keep, bodies: map[string][]time.Time{}, exceptions: map[string][]time.Time{}}
}

// observe notes the records of one export of the step's SDK that the
// collector accepted.
func (s *seenIndex) observe(logs plog.Logs) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.size >= maxSeen {
		s.expire(now)
	}
	for _, rl := range logs.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if s.size >= maxSeen {
					return
				}
				attrs := lr.Attributes()
				if typ, ok := attrs.Get("exception.type"); ok {
					msg, _ := attrs.Get("exception.message")
					key := exceptionKey(typ.AsString(), msg.AsString())
					s.exceptions[key] = append(s.exceptions[key], now)
					s.size++
				}
				// A multi-line message prints as several lines.
				for _, line := range strings.Split(lr.Body().AsString(), "\n") {
					if line = strings.TrimSpace(line); line != "" {
						s.bodies[line] = append(s.bodies[line], now)
						s.size++
					}
				}
			}
		}
	}
}

// expire forgets what arrived more than keep ago.
func (s *seenIndex) expire(now time.Time) {
	for _, m := range []map[string][]time.Time{s.bodies, s.exceptions} {
		for key, at := range m {
			n := 0
			for n < len(at) && now.Sub(at[n]) > s.keep {
				n++
			}
			s.size -= n
			if n == len(at) {
				delete(m, key)
			} else if n > 0 {
				m[key] = at[n:]
			}
		}
	}
}

// exceptionKey matches a printed exception to the SDK's record of it:
// the SDK names the class (ValueError), a traceback may qualify it
// (mymodule.ValueError).
func exceptionKey(typ, msg string) string {
	if i := strings.LastIndexByte(typ, '.'); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + "\x00" + strings.TrimSpace(msg)
}

// take reports whether the step's SDK sent r itself, and if so uses up
// the record that did. A line matches a record's body when it is the
// body, or ends with it after a separator: a console format puts its
// prefix (time, level, logger) before the message.
func (s *seenIndex) take(r console.Record) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Exception != nil {
		return s.use(s.exceptions, exceptionKey(r.Exception.Type, r.Exception.Message), now)
	}
	if len(s.bodies) == 0 {
		return false
	}
	line := strings.TrimSpace(r.Body)
	if s.use(s.bodies, line, now) {
		return true
	}
	for i := 0; i < len(line) && i < 256; i++ {
		switch line[i] {
		case ' ', ':', ']', '|', '-', '\t':
			if rest := strings.TrimSpace(line[i+1:]); rest != "" && s.use(s.bodies, rest, now) {
				return true
			}
		}
	}
	return false
}

// use takes the oldest copy of key that is not older than keep.
func (s *seenIndex) use(m map[string][]time.Time, key string, now time.Time) bool {
	at := m[key]
	for len(at) > 0 && now.Sub(at[0]) > s.keep {
		at = at[1:]
		s.size--
	}
	if len(at) == 0 {
		delete(m, key)
		return false
	}
	s.size--
	if len(at) == 1 {
		delete(m, key)
	} else {
		m[key] = at[1:]
	}
	return true
}

// stepProxy is the step's OTLP endpoint with --capture=auto: it passes
// every request on to the collector unchanged, noting the log records.
type stepProxy struct {
	ln     net.Listener
	server interface{ Close() error }
	addr   string
}

// maxLogsBody bounds the log request the proxy reads to note; a larger
// one (beyond the collector's own limit) is passed on unread.
const maxLogsBody = 64 << 20

// startProxy serves protocol for the step in front of the collector's
// receiver of that protocol at target.
func startProxy(protocol, target string, seen *seenIndex) (*stepProxy, error) {
	if protocol == "grpc" {
		return startGRPCProxy(target, seen)
	}
	return startHTTPProxy(target, seen)
}

// startHTTPProxy serves OTLP/HTTP for the step in front of the
// collector's OTLP/HTTP receiver at target.
func startHTTPProxy(target string, seen *seenIndex) (*stepProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	// Only what the collector took is in Application Insights: a refused
	// request's lines still go as the console printed them. The records
	// are noted before the answer reaches the step, so that a step that
	// exits on it finds them noted.
	forward.ModifyResponse = func(resp *http.Response) error {
		if logs, ok := resp.Request.Context().Value(logsRequestKey{}).(loggedRequest); ok && resp.StatusCode/100 == 2 {
			noteHTTPLogs(seen, logs.body, logs.header)
		}
		return nil
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/logs" && r.ContentLength <= maxLogsBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxLogsBody+1))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			if err == nil && len(body) <= maxLogsBody {
				r = r.WithContext(context.WithValue(r.Context(), logsRequestKey{}, loggedRequest{body, r.Header.Clone()}))
			}
		}
		forward.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &stepProxy{ln: ln, server: srv, addr: ln.Addr().String()}, nil
}

// logsRequestKey carries a logs request's body from the proxy's handler
// to its response hook.
type logsRequestKey struct{}

type loggedRequest struct {
	body   []byte
	header http.Header
}

// noteHTTPLogs decodes an OTLP/HTTP logs request as the receiver would:
// protobuf or JSON, gzip or not. What it cannot decode, it leaves to the
// collector to refuse.
func noteHTTPLogs(seen *seenIndex, body []byte, h http.Header) {
	if strings.EqualFold(h.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxLogsBody))
		if err != nil {
			return
		}
	}
	req := plogotlp.NewExportRequest()
	var err error
	if strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err == nil {
		seen.observe(req.Logs())
	}
}

// startGRPCProxy serves OTLP/gRPC for the step in front of the
// collector's OTLP/gRPC receiver at target.
func startGRPCProxy(target string, seen *seenIndex) (*stepProxy, error) {
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(maxLogsBody))
	plogotlp.RegisterGRPCServer(srv, &logsForwarder{client: plogotlp.NewGRPCClient(conn), seen: seen})
	ptraceotlp.RegisterGRPCServer(srv, &tracesForwarder{client: ptraceotlp.NewGRPCClient(conn)})
	pmetricotlp.RegisterGRPCServer(srv, &metricsForwarder{client: pmetricotlp.NewGRPCClient(conn)})
	go func() { _ = srv.Serve(ln) }()
	return &stepProxy{ln: ln, server: grpcCloser{srv, conn}, addr: ln.Addr().String()}, nil
}

type grpcCloser struct {
	srv  *grpc.Server
	conn *grpc.ClientConn
}

func (g grpcCloser) Close() error {
	g.srv.Stop()
	return g.conn.Close()
}

func (p *stepProxy) close() { _ = p.server.Close() }

// passOn sends a request the step made on to the collector, with the
// step's metadata.
func passOn[Req, Resp any](ctx context.Context, send func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req) (Resp, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	return send(ctx, req)
}

type logsForwarder struct {
	plogotlp.UnimplementedGRPCServer
	client plogotlp.GRPCClient
	seen   *seenIndex
}

func (f *logsForwarder) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	resp, err := passOn(ctx, f.client.Export, req)
	if err == nil {
		f.seen.observe(req.Logs())
	}
	return resp, err
}

type tracesForwarder struct {
	ptraceotlp.UnimplementedGRPCServer
	client ptraceotlp.GRPCClient
}

func (f *tracesForwarder) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	return passOn(ctx, f.client.Export, req)
}

type metricsForwarder struct {
	pmetricotlp.UnimplementedGRPCServer
	client pmetricotlp.GRPCClient
}

func (f *metricsForwarder) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	return passOn(ctx, f.client.Export, req)
}
