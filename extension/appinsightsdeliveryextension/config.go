// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// Config is the configuration of the delivery middleware. It has no
// options yet: it reports every failed track request.
type Config struct {
	// prevent unkeyed literal initialization
	_ struct{}
}
