// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// gatewaySecrets is what an operator gives config/gateway.yaml: a server
// certificate signed by a CA the steps trust, and the senders' token.
type gatewaySecrets struct {
	caFile, certFile, keyFile, tokenFile string
	token                                string
	caPool                               *x509.CertPool
}

// newGatewaySecrets writes a CA, a certificate for 127.0.0.1 and localhost
// signed by it, and a token, each to a file of its own.
func newGatewaySecrets(t testing.TB) *gatewaySecrets {
	t.Helper()
	dir := t.TempDir()
	s := &gatewaySecrets{
		tokenFile: filepath.Join(dir, "token"),
		token:     rand.Text(),
	}
	s.caFile, s.certFile, s.keyFile, s.caPool = newServerCertificate(t, dir, "localhost")
	require.NoError(t, os.WriteFile(s.tokenFile, []byte(s.token+"\n"), 0o600))
	return s
}

// newServerCertificate writes, in dir, a CA and a server certificate for
// 127.0.0.1 and names signed by it, with its key.
func newServerCertificate(t testing.TB, dir string, names ...string) (caFile, certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "runcontext test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     names,
	}, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)

	caFile, certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	pool = x509.NewCertPool()
	pool.AddCert(caCert)
	writePEM(t, caFile, "CERTIFICATE", caDER)
	writePEM(t, certFile, "CERTIFICATE", leafDER)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return caFile, certFile, keyFile, pool
}

func writePEM(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
}

// env points config/gateway.yaml at the files.
func (s *gatewaySecrets) env() []string {
	return []string{
		"RUNCONTEXT_TLS_CERT_FILE=" + s.certFile,
		"RUNCONTEXT_TLS_KEY_FILE=" + s.keyFile,
		"RUNCONTEXT_TOKEN_FILE=" + s.tokenFile,
	}
}

// stepEnv is what a step sets to send to the gateway: the token and the
// CA to trust, with the SDK's standard variables.
func (s *gatewaySecrets) stepEnv() []string {
	return []string{
		"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20" + s.token,
		"OTEL_EXPORTER_OTLP_CERTIFICATE=" + s.caFile,
	}
}

// startGateway runs the binary on config/gateway.yaml with fresh secrets,
// delivering to ingest.
func startGateway(t *testing.T, ingest *ingestiontest.Server) (*collector, *gatewaySecrets) {
	t.Helper()
	secrets := newGatewaySecrets(t)
	env := append(secrets.env(), "APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString())
	c := startCollector(t, configPath("gateway.yaml"), env...)
	c.scheme = "https"
	return c, secrets
}

// postLogs sends one OTLP/HTTP logs request and returns its status.
func postLogs(t *testing.T, client *http.Client, url, authorization string) int {
	t.Helper()
	body, err := plogotlp.NewExportRequestFromLogs(oneLog("should not arrive")).MarshalProto()
	require.NoError(t, err)
	status, err := post(client, url, "application/x-protobuf", bytes.NewReader(body), "Authorization", authorization)
	require.NoError(t, err)
	return status
}

// exportLogsGRPC sends one OTLP/gRPC logs request on a connection of its
// own and returns its status code.
func exportLogsGRPC(t *testing.T, addr string, creds credentials.TransportCredentials, authorization string) codes.Code {
	t.Helper()
	return exportLogs(dialOTLP(t, addr, creds), plogotlp.NewExportRequestFromLogs(oneLog("should not arrive")), authorization)
}

// The gateway takes nothing without TLS and its token: plain HTTP and
// plain gRPC are refused, a missing or wrong token gets 401 or
// Unauthenticated, and nothing reaches Application Insights.
func TestGatewayRefusesWhomItShould(t *testing.T) {
	ingest := ingestiontest.New(t)
	c, secrets := startGateway(t, ingest)
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: secrets.caPool}}}
	tlsCreds := credentials.NewTLS(&tls.Config{RootCAs: secrets.caPool})
	logsURL := "https://" + c.httpAddr + "/v1/logs"

	// Go's TLS server answers a plaintext request with 400 and nothing else.
	assert.Equal(t, http.StatusBadRequest, postLogs(t, http.DefaultClient, "http://"+c.httpAddr+"/v1/logs", "Bearer "+secrets.token), "plain HTTP")
	assert.Equal(t, codes.Unavailable, exportLogsGRPC(t, c.grpcAddr, insecure.NewCredentials(), "Bearer "+secrets.token), "plain gRPC")

	for name, authorization := range map[string]string{
		"no token":     "",
		"wrong token":  "Bearer " + rand.Text(),
		"wrong scheme": "Basic " + secrets.token,
		"bare token":   secrets.token,
	} {
		assert.Equal(t, http.StatusUnauthorized, postLogs(t, httpsClient, logsURL, authorization), "HTTPS, %s", name)
		assert.Equal(t, codes.Unauthenticated, exportLogsGRPC(t, c.grpcAddr, tlsCreds, authorization), "gRPC, %s", name)
	}

	// The token is right: both protocols take it. These two arrive.
	assert.Equal(t, http.StatusOK, postLogs(t, httpsClient, logsURL, "Bearer "+secrets.token))
	assert.Equal(t, codes.OK, exportLogsGRPC(t, c.grpcAddr, tlsCreds, "Bearer "+secrets.token))
	c.stop(t)

	assert.Len(t, logEnvelopes(ingest.Envelopes(t)), 2, "only the two authenticated requests were exported")
	assert.NotContains(t, c.output.String(), secrets.token, "the token reached a log line")
}

// Without its certificate, key or token the gateway does not start: it
// never falls back to plaintext or to taking anyone.
func TestGatewayWithoutItsSecretsDoesNotStart(t *testing.T) {
	secrets := newGatewaySecrets(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for name, env := range map[string][]string{
		"certificate": {"RUNCONTEXT_TLS_CERT_FILE=" + missing, "RUNCONTEXT_TLS_KEY_FILE=" + secrets.keyFile, "RUNCONTEXT_TOKEN_FILE=" + secrets.tokenFile},
		"token":       {"RUNCONTEXT_TLS_CERT_FILE=" + secrets.certFile, "RUNCONTEXT_TLS_KEY_FILE=" + secrets.keyFile, "RUNCONTEXT_TOKEN_FILE=" + missing},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := collectorCommand(t, configPath("gateway.yaml"), append(env, "APPLICATIONINSIGHTS_CONNECTION_STRING="+unreachableConnectionString)...)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the collector started without its %s:\n%s", name, out)
			assert.Contains(t, string(out), missing, "the error names the missing file")
		})
	}
}

// The gateway's bounds on one request, as config/gateway.yaml sets them:
// 8 MiB of HTTP body after decompression, 8 MiB gRPC messages. An
// authenticated sender gets past the token, not past the bounds.
func TestGatewayBoundsRequests(t *testing.T) {
	ingest := ingestiontest.New(t)
	c, secrets := startGateway(t, ingest)
	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: secrets.caPool}}}
	authorization := "Bearer " + secrets.token

	bomb := gzipOf(64<<20, 0) // 64 MiB of zeros in 64 KiB
	status, err := post(httpsClient, "https://"+c.httpAddr+"/v1/logs", "application/x-protobuf", bytes.NewReader(bomb),
		"Content-Encoding", "gzip", "Authorization", authorization)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, status, "a body past 8 MiB once decompressed")

	raw := wideRecord("too-wide", 600_000)
	require.Greater(t, len(raw), 8<<20)
	huge := plogotlp.NewExportRequest()
	require.NoError(t, huge.UnmarshalProto(raw))
	conn := dialOTLP(t, c.grpcAddr, credentials.NewTLS(&tls.Config{RootCAs: secrets.caPool}))
	assert.Equal(t, codes.ResourceExhausted, exportLogs(conn, huge, authorization), "a message past 8 MiB")

	c.stop(t)
	assert.Empty(t, logEnvelopes(ingest.Envelopes(t)))
}
