// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
)

// proxyProbe is the request a transport's proxy setting is asked about:
// confighttp's proxy_url answers the same for every request, the
// environment's proxy for every host NO_PROXY does not name.
var proxyProbe = &http.Request{URL: &url.URL{Scheme: "https", Host: "dc.services.visualstudio.com", Path: "/v2.1/track"}}

// transportDiffers says in what two exporters' transports differ that the
// spool's delivery would not honour: TLS or proxy. Empty when nothing
// does, or when they cannot be compared.
func transportDiffers(first, other http.RoundTripper) string {
	a, okA := first.(*http.Transport)
	b, okB := other.(*http.Transport)
	switch {
	case !okA && !okB:
		return ""
	case okA != okB:
		return fmt.Sprintf("the transport (%T, %T)", first, other)
	}
	if proxyOf(a) != proxyOf(b) {
		return "proxy_url"
	}
	if !sameTLS(a.TLSClientConfig, b.TLSClientConfig) {
		return "tls"
	}
	return ""
}

func proxyOf(t *http.Transport) string {
	if t.Proxy == nil {
		return ""
	}
	u, err := t.Proxy(proxyProbe)
	if err != nil {
		return "error: " + err.Error()
	}
	if u == nil {
		return ""
	}
	return u.String()
}

func sameTLS(a, b *tls.Config) bool {
	if a == nil || b == nil {
		return a == b || (a == nil && isDefaultTLS(b)) || (b == nil && isDefaultTLS(a))
	}
	if a.InsecureSkipVerify != b.InsecureSkipVerify || a.ServerName != b.ServerName ||
		a.MinVersion != b.MinVersion || a.MaxVersion != b.MaxVersion || len(a.Certificates) != len(b.Certificates) {
		return false
	}
	if (a.RootCAs == nil) != (b.RootCAs == nil) || (a.RootCAs != nil && !a.RootCAs.Equal(b.RootCAs)) {
		return false
	}
	for i := range a.Certificates {
		if len(a.Certificates[i].Certificate) == 0 || len(b.Certificates[i].Certificate) == 0 {
			continue
		}
		if !bytes.Equal(a.Certificates[i].Certificate[0], b.Certificates[i].Certificate[0]) {
			return false
		}
	}
	return true
}

// isDefaultTLS reports whether c asks for nothing beyond Go's defaults.
func isDefaultTLS(c *tls.Config) bool {
	return !c.InsecureSkipVerify && c.ServerName == "" && c.RootCAs == nil && len(c.Certificates) == 0 && c.MaxVersion == 0
}
