// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.uber.org/zap"
)

type deliveryExtension struct {
	component.StartFunc
	cfg      *Config
	logger   *zap.Logger
	inFlight *inFlight
}

func newDeliveryExtension(cfg *Config, logger *zap.Logger) *deliveryExtension {
	return &deliveryExtension{cfg: cfg, logger: logger, inFlight: newInFlight()}
}

var _ extensionmiddleware.HTTPClient = (*deliveryExtension)(nil)

func (e *deliveryExtension) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, next http.RoundTripper) (http.RoundTripper, error) {
		return &reportingRoundTripper{next: next, logger: e.logger, inFlight: e.inFlight}, nil
	}, nil
}

// Shutdown runs after the exporters have stopped. Their last flush starts
// moments after: wait until no track request has started for a short
// quiet period and none is in flight, at most ShutdownTimeout.
func (e *deliveryExtension) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ShutdownTimeout)
	defer cancel()
	// The quiet period counts from now, not from the last request: the
	// exporter's final flush may follow a long idle time.
	e.inFlight.touch()
	if n := e.inFlight.wait(ctx, quietPeriod); n > 0 {
		e.logger.Error("Shutdown timed out with track requests still in flight; their telemetry may be lost",
			zap.Int("requests", n), zap.Duration("shutdown_timeout", e.cfg.ShutdownTimeout))
	}
	return nil
}

// quietPeriod is how long no new track request may start before shutdown
// considers the exporter's last flush sent: the flush starts within
// microseconds of the exporter closing its channel.
const quietPeriod = 250 * time.Millisecond

// reportingRoundTripper passes every request on unchanged and logs the
// answers that did not accept every item.
type reportingRoundTripper struct {
	next     http.RoundTripper
	logger   *zap.Logger
	inFlight *inFlight
}

// trackResponse is Application Insights' answer to a track request.
type trackResponse struct {
	ItemsReceived int `json:"itemsReceived"`
	ItemsAccepted int `json:"itemsAccepted"`
	Errors        []struct {
		Index      int    `json:"index"`
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	} `json:"errors"`
}

// retryable are the status codes ApplicationInsights-Go retries, three
// times at most; every other failed item is lost.
var retryable = map[int]bool{408: true, 429: true, 439: true, 500: true, 503: true}

func (rt *reportingRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.inFlight.start()
	defer rt.inFlight.done()
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		// The error names the endpoint URL, which holds no secret: the
		// instrumentation key travels in the body.
		rt.logger.Error("Could not reach Application Insights; ApplicationInsights-Go retries the batch up to 3 times, then drops it",
			zap.Error(err))
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	body, readErr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr != nil {
		rt.logger.Error("Could not read Application Insights' answer", zap.Int("status", resp.StatusCode), zap.Error(readErr))
		return resp, nil
	}
	rt.report(resp.StatusCode, body)
	return resp, nil
}

func (rt *reportingRoundTripper) report(status int, body []byte) {
	var tr trackResponse
	parsed := json.Unmarshal(body, &tr) == nil
	if parsed && status == http.StatusPartialContent && tr.ItemsAccepted == tr.ItemsReceived {
		return
	}
	if !parsed || len(tr.Errors) == 0 {
		rt.logger.Error("Application Insights rejected a track request",
			zap.Int("status", status), zap.Bool("retried", retryable[status]))
		return
	}
	byStatus := map[int]int{}
	messages := map[string]bool{}
	for _, e := range tr.Errors {
		byStatus[e.StatusCode]++
		if len(messages) < 3 {
			messages[e.Message] = true
		}
	}
	lost, retried := 0, 0
	for code, n := range byStatus {
		if retryable[code] {
			retried += n
		} else {
			lost += n
		}
	}
	fields := []zap.Field{
		zap.Int("status", status),
		zap.Int("items_received", tr.ItemsReceived),
		zap.Int("items_accepted", tr.ItemsAccepted),
		zap.Int("items_retried", retried),
		zap.Int("items_rejected", lost),
		zap.String("item_errors", summarize(byStatus)),
		zap.String("messages", strings.Join(sortedKeys(messages), "; ")),
	}
	if lost > 0 {
		rt.logger.Error("Application Insights rejected telemetry items for good", fields...)
		return
	}
	rt.logger.Warn("Application Insights asked to retry telemetry items", fields...)
}

func summarize(byStatus map[int]int) string {
	codes := make([]int, 0, len(byStatus))
	for c := range byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", byStatus[c], c)
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
