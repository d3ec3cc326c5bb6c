// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// passThrough sends a request on unchanged and logs the answers that did
// not accept every item: what the exporter gets without a spool.
type passThrough struct {
	next   http.RoundTripper
	logger *zap.Logger
}

func (p *passThrough) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if err != nil {
		// The error names the endpoint URL, which holds no secret: the
		// instrumentation key travels in the body.
		p.logger.Error("Could not reach Application Insights; ApplicationInsights-Go retries the batch up to 3 times, then drops it",
			zap.Error(err))
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	body, readErr := readAnswerBody(resp)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr != nil {
		p.logger.Error("Could not read Application Insights' answer", zap.Int("status", resp.StatusCode), zap.Error(readErr))
		return resp, nil
	}
	p.report(readAnswer(resp.StatusCode, resp.Header, body, time.Now()))
	return resp, nil
}

func (p *passThrough) report(a trackAnswer) {
	if a.allAccepted() {
		return
	}
	if !a.hasItemErrors() {
		p.logger.Error("Application Insights rejected a track request",
			zap.Int("status", a.status), zap.Bool("retried", trackprotocol.RetryableItem(a.status)))
		return
	}
	s := summarizeItems(a.body.Errors)
	fields := append([]zap.Field{
		zap.Int("status", a.status),
		zap.Int("items_received", a.body.ItemsReceived),
		zap.Int("items_accepted", a.body.ItemsAccepted),
		zap.Int("items_retried", s.retry),
		zap.Int("items_rejected", s.rejected),
	}, s.fields()...)
	if s.rejected > 0 {
		p.logger.Error("Application Insights rejected telemetry items for good", fields...)
		return
	}
	p.logger.Warn("Application Insights asked to retry telemetry items", fields...)
}
