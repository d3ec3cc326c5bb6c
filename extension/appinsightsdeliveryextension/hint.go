// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds what delivery tells an operator about a failure: the
// log line an episode gets, and the hint that says what to check. The
// wording lives here only.

import (
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// describe is the outcome's error, or why its answer was not trusted.
func (o outcome) describe() string {
	switch {
	case o.err != nil:
		return o.err.Error()
	case o.cause == causeUntrusted:
		return "the answer does not say which items failed"
	case o.verdict == verdictKeyRefused:
		return "Invalid instrumentation key"
	}
	return ""
}

// reportFailure logs a whole failure of a request of items: an error for
// a refused key, a warning for the first failure of an episode, debug for
// the rest of it, so that an outage is logged once.
func (d *deliverer) reportFailure(o outcome, items int, wait time.Duration, begins bool) {
	fields := []zap.Field{zap.String("what_to_do", d.hint(o)), zap.Int("items", items), zap.Duration("retry_in", wait.Round(time.Millisecond))}
	if o.status != 0 {
		fields = append(fields, zap.Int("status", o.status))
	}
	if why := o.describe(); why != "" {
		fields = append(fields, zap.String("error", why))
	}
	switch {
	case begins && o.verdict == verdictKeyRefused:
		d.logger.Error("Application Insights refuses the instrumentation key of every item; the telemetry stays in the spool until the connection string is fixed", fields...)
	case begins:
		d.logger.Warn("Could not deliver to Application Insights; the telemetry stays in the spool and is sent again", fields...)
	default:
		d.logger.Debug("Delivery failed again", fields...)
	}
}

// hint tells an operator what a failure asks of them.
func (d *deliverer) hint(o outcome) string {
	keyless := d.entra.enabled()
	switch {
	case o.cause == causeToken:
		return fmt.Sprintf("no Microsoft Entra ID token could be had from entra_id.credential %s (%s): check that this identity exists where the collector runs and can sign in", d.entra.Credential, d.entra.identity())
	case o.cause == causeUnreachable:
		return "ingestion could not be reached: check the network, DNS and proxy to the connection string's IngestionEndpoint"
	case o.cause == causeUntrusted:
		return "ingestion's answer did not say which items failed; the request is sent again whole"
	case o.verdict == verdictKeyRefused:
		return "the connection string's instrumentation key is wrong, or its Application Insights resource is gone: set APPLICATIONINSIGHTS_CONNECTION_STRING to the resource's connection string and restart; the spool delivers what it kept"
	case keyless && (o.status == http.StatusUnauthorized || o.status == http.StatusForbidden):
		return fmt.Sprintf("ingestion refused the Entra ID token of entra_id.credential %s (%s), even a fresh one: check that the identity has the Monitoring Metrics Publisher role on the Application Insights resource", d.entra.Credential, d.entra.identity())
	}
	switch o.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "ingestion refused the credentials: check the connection string's instrumentation key, and whether the resource requires Microsoft Entra ID (local authentication disabled)"
	case http.StatusNotFound:
		return "ingestion or a proxy does not know the path: check the connection string's IngestionEndpoint and any proxy in between"
	case http.StatusPaymentRequired, http.StatusTooManyRequests, 439:
		return "Application Insights is throttling: check the resource's daily cap and sampling"
	default:
		return "Application Insights is not taking telemetry now; nothing to do but wait, the spool keeps it"
	}
}
