// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package ingestion is a local Application Insights ingestion endpoint: it
// takes the track requests the Azure Monitor exporter sends, checks each
// envelope as the service does, stores the accepted ones durably and answers
// with the service's response body. The appinsights_ingestion extension
// serves it inside the collector; package ingestiontest serves it in tests,
// with faults on demand.
package ingestion // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// Handler serves track requests.
type Handler struct {
	instrumentationKey string
	store              *Store
	onResponse         func(status int, resp trackprotocol.Response)
	failItem           func(index int, item []byte) int
}

// Options configure a Handler.
type Options struct {
	// InstrumentationKey is the key every envelope must carry (compared
	// without regard to case).
	InstrumentationKey string
	// Store receives the accepted envelopes. Nil keeps nothing.
	Store *Store
	// OnResponse, if set, sees every answer, for logging and counting.
	OnResponse func(status int, resp trackprotocol.Response)
	// FailItem, if set, may fail a valid item with the status code it
	// returns (0 accepts it): fault injection for tests.
	FailItem func(index int, item []byte) int
}

// NewHandler returns a track endpoint.
func NewHandler(opts Options) *Handler {
	return &Handler{
		instrumentationKey: opts.InstrumentationKey,
		store:              opts.Store,
		onResponse:         opts.OnResponse,
		failItem:           opts.FailItem,
	}
}

// Routes serves the track paths as senders write them (see
// trackprotocol.IsTrackPath), and 404 elsewhere, without ServeMux's
// redirects.
func (h *Handler) Routes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !trackprotocol.IsTrackPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MaxItems bounds the items of one request, and so the size of the answer
// that lists their errors: ApplicationInsights-Go sends at most 1 024.
const MaxItems = 10_000

// maxMessage bounds one item error's message in an answer.
const maxMessage = 256

// trackContentTypes are the content types the track protocol is sent with.
// A browser's cross-site POST without a CORS preflight can only send
// text/plain or a form: refusing those keeps a web page the user has open
// from writing telemetry to the local endpoint.
var trackContentTypes = []string{"application/x-json-stream", "application/json"}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "track takes POST", http.StatusMethodNotAllowed)
		return
	}
	if mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !slices.Contains(trackContentTypes, strings.ToLower(mediaType)) {
		h.respond(w, http.StatusUnsupportedMediaType, trackprotocol.Response{Errors: []trackprotocol.ItemError{{
			StatusCode: http.StatusUnsupportedMediaType,
			Message:    fmt.Sprintf("Content-Type must be one of %v", trackContentTypes),
		}}})
		return
	}
	body, err := trackprotocol.ReadBody(r.Body)
	var items [][]byte
	if err == nil {
		// Counted as the body streams: one more than MaxItems ends it.
		items, err = trackprotocol.DecodeItemsAtMost(r.Header.Get("Content-Encoding"), body, MaxItems)
	}
	var tooMany *trackprotocol.TooManyItemsError
	switch {
	case errors.As(err, &tooMany):
		h.respond(w, http.StatusRequestEntityTooLarge, trackprotocol.Response{Errors: []trackprotocol.ItemError{{
			StatusCode: http.StatusRequestEntityTooLarge,
			Message:    fmt.Sprintf("more than %d items in one request", MaxItems),
		}}})
		return
	case err != nil:
		status := http.StatusBadRequest
		if errors.Is(err, trackprotocol.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.respond(w, status, trackprotocol.Response{Errors: []trackprotocol.ItemError{{Index: 0, StatusCode: status, Message: err.Error()}}})
		return
	}
	status, resp := h.Track(items)
	h.respond(w, status, resp)
}

// Track checks and stores the items of one request and returns the status
// and body to answer with.
func (h *Handler) Track(items [][]byte) (int, trackprotocol.Response) {
	if len(items) == 0 {
		return trackprotocol.NoItems()
	}
	var errs []trackprotocol.ItemError
	accepted := make([][]byte, 0, len(items))
	for i, raw := range items {
		line, err := h.check(raw)
		if err != nil {
			errs = append(errs, trackprotocol.ItemError{Index: i, StatusCode: http.StatusBadRequest, Message: truncate(err.Error(), maxMessage)})
			continue
		}
		if h.failItem != nil {
			if status := h.failItem(i, line); status != 0 {
				errs = append(errs, trackprotocol.ItemError{Index: i, StatusCode: status, Message: http.StatusText(status)})
				continue
			}
		}
		accepted = append(accepted, line)
	}
	if h.store != nil {
		if err := h.store.Append(accepted); err != nil {
			// Nothing was kept: ask for every item again.
			errs = make([]trackprotocol.ItemError, len(items))
			for i := range items {
				errs[i] = trackprotocol.ItemError{Index: i, StatusCode: http.StatusInternalServerError, Message: err.Error()}
			}
			_, resp := trackprotocol.Answer(len(items), errs)
			return http.StatusInternalServerError, resp
		}
	}
	return trackprotocol.Answer(len(items), errs)
}

func (h *Handler) respond(w http.ResponseWriter, status int, resp trackprotocol.Response) {
	if h.onResponse != nil {
		h.onResponse(status, resp)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// itemTypes maps an envelope name's last part to its data's base type and
// the baseData fields the service requires.
var itemTypes = map[string]struct {
	baseType string
	required []string
}{
	"Message":          {"MessageData", []string{"message"}},
	"Exception":        {"ExceptionData", []string{"exceptions"}},
	"Event":            {"EventData", []string{"name"}},
	"Request":          {"RequestData", []string{"id", "duration", "responseCode"}},
	"RemoteDependency": {"RemoteDependencyData", []string{"name", "duration"}},
	"Metric":           {"MetricData", []string{"metrics"}},
	"PageView":         {"PageViewData", []string{"name"}},
	"Availability":     {"AvailabilityData", []string{"id", "name", "duration", "runLocation"}},
}

const envelopeNamePrefix = "Microsoft.ApplicationInsights."

// check validates one item and returns it as one compact line.
func (h *Handler) check(raw []byte) ([]byte, error) {
	var env struct {
		Name string                     `json:"name"`
		Time string                     `json:"time"`
		IKey string                     `json:"iKey"`
		Data map[string]json.RawMessage `json:"data"`
	}
	if !utf8.Valid(raw) {
		return nil, errors.New("invalid UTF-8")
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if env.IKey == "" {
		return nil, errors.New("Field 'iKey' on type 'Envelope' is required but missing or empty")
	}
	if h.instrumentationKey != "" && !strings.EqualFold(env.IKey, h.instrumentationKey) {
		return nil, errors.New("Invalid instrumentation key")
	}
	if env.Time == "" {
		return nil, errors.New("Field 'time' on type 'Envelope' is required but missing or empty")
	}
	if _, err := time.Parse(time.RFC3339Nano, env.Time); err != nil {
		return nil, fmt.Errorf("Field 'time' on type 'Envelope' is not a valid date-time: %q", env.Time)
	}
	if !strings.HasPrefix(env.Name, envelopeNamePrefix) {
		return nil, fmt.Errorf("Unknown envelope name %q", env.Name)
	}
	kind := env.Name[strings.LastIndexByte(env.Name, '.')+1:]
	typ, ok := itemTypes[kind]
	if !ok {
		return nil, fmt.Errorf("Unknown envelope name %q", env.Name)
	}
	var baseType string
	if err := json.Unmarshal(env.Data["baseType"], &baseType); err != nil || baseType != typ.baseType {
		return nil, fmt.Errorf("Field 'baseType' on type 'Data' must be %q for %s", typ.baseType, env.Name)
	}
	var baseData map[string]json.RawMessage
	if err := json.Unmarshal(env.Data["baseData"], &baseData); err != nil || baseData == nil {
		return nil, errors.New("Field 'baseData' on type 'Data' is required but missing or empty")
	}
	for _, field := range typ.required {
		if isEmptyJSON(baseData[field]) {
			return nil, fmt.Errorf("Field '%s' on type '%s' is required but missing or empty", field, typ.baseType)
		}
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return line.Bytes(), nil
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isEmptyJSON(v json.RawMessage) bool {
	s := string(bytes.TrimSpace(v))
	return s == "" || s == "null" || s == `""` || s == "[]"
}
