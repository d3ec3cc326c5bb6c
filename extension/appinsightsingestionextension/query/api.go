// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// API serves the Application Insights query API over a store:
// GET or POST /v1/apps/{app}/query with query and an optional ISO 8601
// timespan, answered in the service's JSON shape. Scripts written against
// api.applicationinsights.io work with the base URL changed; {app} may be
// anything, as there is one application here.
type API struct {
	Store *Store
	// Now is the query's clock; nil is time.Now.
	Now func() time.Time
}

// renderHint is what `render` asked for, returned as Log Analytics does
// for a request with "Prefer: include-render=true".
type renderHint struct {
	Visualization string `json:"visualization"`
}

// apiError is the service's error body.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message    string     `json:"message"`
	Code       string     `json:"code"`
	InnerError *errorBody `json:"innererror,omitempty"`
	Line       int        `json:"line,omitempty"`
	Pos        int        `json:"pos,omitempty"`
}

var queryPath = regexp.MustCompile(`^/v1/apps/[^/]+/query$`)

// IsQueryPath reports whether a request is for the query API.
func IsQueryPath(path string) bool { return queryPath.MatchString(path) }

// maxQueryBytes bounds a POSTed body.
const maxQueryBytes = 1 << 20

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsQueryPath(r.URL.Path) {
		writeError(w, http.StatusNotFound, "PathNotFoundError", "The requested path does not exist", nil)
		return
	}
	if CrossSite(r) {
		writeError(w, http.StatusForbidden, "Forbidden", "cross-site requests are refused", nil)
		return
	}
	var text, timespan string
	switch r.Method {
	case http.MethodGet:
		text, timespan = r.URL.Query().Get("query"), r.URL.Query().Get("timespan")
	case http.MethodPost:
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "POST a JSON body: {\"query\": \"...\", \"timespan\": \"PT1H\"}", nil)
			return
		}
		var body struct {
			Query    string `json:"query"`
			Timespan string `json:"timespan"`
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBytes+1))
		if err == nil && len(raw) > maxQueryBytes {
			err = errors.New("the body is over 1 MiB")
		}
		if err == nil {
			err = json.Unmarshal(raw, &body)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "BadArgumentError", "The request body is not valid JSON: "+err.Error(), nil)
			return
		}
		text, timespan = body.Query, body.Timespan
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "GET or POST", nil)
		return
	}
	if strings.TrimSpace(text) == "" {
		writeError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties",
			&errorBody{Code: "QueryMissing", Message: "the query parameter is required"})
		return
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	at := now().UTC()
	span, err := ParseTimespan(timespan, at)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties",
			&errorBody{Code: "InvalidTimespan", Message: err.Error()})
		return
	}
	started := false
	err = a.Store.Query(text, at, span, func(res *kql.Result) error {
		started = true
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return WriteAnswer(w, res, strings.Contains(r.Header.Get("Prefer"), "include-render=true"))
	})
	switch {
	case err == nil:
	case started:
		// The rows were being written: the body ends short, which a
		// client sees as invalid JSON, and the connection closes.
		panic(http.ErrAbortHandler)
	default:
		var qe *kql.Error
		if errors.As(err, &qe) {
			writeError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties",
				&errorBody{Code: "SemanticError", Message: qe.Error(), Line: qe.Line, Pos: qe.Column})
			return
		}
		writeError(w, http.StatusInternalServerError, "InternalServerError", err.Error(), nil)
	}
}

// WriteAnswer writes a result as the query API's body, row by row:
// {"tables":[{"name":"PrimaryResult","columns":[...],"rows":[...]}]}, and
// with render, the chart a query's render asked for.
func WriteAnswer(w io.Writer, res *kql.Result, render bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	columns := res.Columns
	if columns == nil {
		columns = []kql.ColumnSchema{}
	}
	head, err := json.Marshal(columns)
	if err != nil {
		return err
	}
	bw.WriteString(`{"tables":[{"name":"PrimaryResult","columns":`)
	bw.Write(head)
	bw.WriteString(`,"rows":[`)
	cells := make([]any, len(columns))
	first := true
	err = res.Each(func(row []kql.Value) error {
		for i, v := range row {
			cells[i] = v.JSON()
		}
		b, err := json.Marshal(cells)
		if err != nil {
			return err
		}
		if !first {
			bw.WriteByte(',')
		}
		first = false
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString(`]}]`)
	if render && res.Render != "" {
		hint, _ := json.Marshal(renderHint{Visualization: res.Render})
		bw.WriteString(`,"render":`)
		bw.Write(hint)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func writeError(w http.ResponseWriter, status int, code, message string, inner *errorBody) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: errorBody{Code: code, Message: message, InnerError: inner}})
}

// Loopback serves h to loopback clients that name this machine as the
// host: a page whose name was made to resolve to 127.0.0.1 (DNS
// rebinding) still names its own host, and is refused.
func Loopback(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackAddr(r.RemoteAddr) || !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "Forbidden", "the local query API and page answer this machine's loopback clients only, at localhost or a loopback address", nil)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CrossSite reports a request a page of another site made: the browser
// says so (Sec-Fetch-Site), or its Origin is not the host it asks.
func CrossSite(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseTimespan reads the API's timespan: an ISO 8601 duration ending now
// (PT1H, P7D), an interval start/end, or start/duration. Empty is no
// limit.
func ParseTimespan(s string, now time.Time) (Span, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Span{}, nil
	}
	if start, end, ok := strings.Cut(s, "/"); ok {
		from, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return Span{}, fmt.Errorf("timespan %q: the start is not an ISO 8601 date and time", s)
		}
		if to, err := time.Parse(time.RFC3339Nano, end); err == nil {
			return Span{From: from, To: to}, nil
		}
		d, err := isoDurationOf(end)
		if err != nil {
			return Span{}, fmt.Errorf("timespan %q: %w", s, err)
		}
		return Span{From: from, To: from.Add(d)}, nil
	}
	d, err := isoDurationOf(s)
	if err != nil {
		return Span{}, fmt.Errorf("timespan %q: %w", s, err)
	}
	return Span{From: now.Add(-d), To: now}, nil
}

func isoDurationOf(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, errors.New("not an ISO 8601 duration (PT1H, P7D)")
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		f, _ := strconv.ParseFloat(m[i+1], 64)
		d += time.Duration(f * float64(u))
	}
	return d, nil
}
