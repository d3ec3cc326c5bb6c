// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTransportDiffers(t *testing.T) {
	proxy := func(raw string) func(*http.Request) (*url.URL, error) {
		u, _ := url.Parse(raw)
		return http.ProxyURL(u)
	}
	base := func() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }
	withProxy := func(raw string) *http.Transport { tr := base(); tr.Proxy = proxy(raw); return tr }
	withTLS := func(c *tls.Config) *http.Transport { tr := base(); tr.TLSClientConfig = c; return tr }
	pool := x509.NewCertPool()
	for _, tc := range []struct {
		name        string
		first, next http.RoundTripper
		want        string
	}{
		{name: "same defaults", first: base(), next: base(), want: ""},
		{name: "same proxy", first: withProxy("http://proxy:3128"), next: withProxy("http://proxy:3128"), want: ""},
		{name: "other proxy", first: withProxy("http://proxy:3128"), next: withProxy("http://other:3128"), want: "proxy_url"},
		{name: "a proxy and none", first: base(), next: withProxy("http://proxy:3128"), want: "proxy_url"},
		{name: "min_version only on one", first: withTLS(&tls.Config{MinVersion: tls.VersionTLS12}), next: withTLS(&tls.Config{MinVersion: tls.VersionTLS13}), want: "tls"},
		{name: "insecure on one", first: base(), next: withTLS(&tls.Config{InsecureSkipVerify: true}), want: "tls"}, //nolint:gosec // the setting under test
		{name: "a CA on one", first: withTLS(&tls.Config{}), next: withTLS(&tls.Config{RootCAs: pool}), want: "tls"},
		{name: "wrapped both", first: http.NewFileTransport(http.Dir(".")), next: http.NewFileTransport(http.Dir(".")), want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, transportDiffers(tc.first, tc.next))
		})
	}
}
