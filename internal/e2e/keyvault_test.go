// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyVault stands in for an Azure Key Vault at https://myvault.vault.azure.net,
// reached through a tunnel, with the compute's managed identity endpoint as Azure ML
// compute has it (MSI_ENDPOINT, MSI_SECRET). It answers as the service
// does: 401 with the Bearer challenge a client must follow, then the
// secret to a request with the identity's token, 403 to any other.
type keyVault struct {
	env       []string
	secrets   map[string]string
	tunnel    *tunnel
	mu        sync.Mutex
	challenge int
}

const (
	vaultURL       = "https://myvault.vault.azure.net"
	vaultToken     = "vault-token-of-the-compute"
	vaultMSISecret = "msi-secret"
)

// tunnel is an HTTPS proxy that takes every CONNECT to a TLS server
// serving handler as host, with a certificate of a CA in caFile: the way to
// give a client outside the test a name of Azure's.
type tunnel struct {
	proxyURL, caFile string
	mu               sync.Mutex
	hosts            []string // the hosts clients asked for
}

func newTunnel(t *testing.T, host string, handler http.Handler) *tunnel {
	t.Helper()
	tn := &tunnel{}
	var certFile, keyFile string
	tn.caFile, certFile, keyFile, _ = newServerCertificate(t, t.TempDir(), host)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	server := httptest.NewUnstartedServer(handler)
	server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server.StartTLS()
	t.Cleanup(server.Close)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		tn.mu.Lock()
		tn.hosts = append(tn.hosts, r.Host)
		tn.mu.Unlock()
		upstream, err := net.Dial("tcp", server.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		client, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(upstream, client); upstream.Close() }()
		go func() { _, _ = io.Copy(client, upstream); client.Close() }()
	}))
	t.Cleanup(proxy.Close)
	tn.proxyURL = proxy.URL
	return tn
}

// asked is the hosts clients asked the proxy for.
func (tn *tunnel) asked() []string {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return append([]string(nil), tn.hosts...)
}

func newKeyVault(t *testing.T, secrets map[string]string) *keyVault {
	t.Helper()
	kv := &keyVault{secrets: secrets}
	kv.tunnel = newTunnel(t, "myvault.vault.azure.net", http.HandlerFunc(kv.serveVault))

	// Azure ML compute's managed identity endpoint, for the vault's scope.
	msi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("secret") != vaultMSISecret || r.URL.Query().Get("resource") != "https://vault.azure.net" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"access_token": vaultToken, "token_type": "Bearer", "resource": "https://vault.azure.net",
			"expires_on": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
		})
	}))
	t.Cleanup(msi.Close)

	kv.env = []string{
		"KEY_VAULT_URL=" + vaultURL,
		"HTTPS_PROXY=" + kv.tunnel.proxyURL, "https_proxy=" + kv.tunnel.proxyURL,
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
		"REQUESTS_CA_BUNDLE=" + kv.tunnel.caFile,
		"MSI_ENDPOINT=" + msi.URL + "/MSI/auth", "MSI_SECRET=" + vaultMSISecret,
	}
	return kv
}

func (kv *keyVault) serveVault(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.Header.Get("Authorization") {
	case "":
		kv.mu.Lock()
		kv.challenge++
		kv.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/72f988bf-0000-0000-0000-000000000000", resource="https://vault.azure.net"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}`)
		return
	case "Bearer " + vaultToken:
	default:
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"error":{"code":"Forbidden","message":"Caller is not authorized"}}`)
		return
	}
	// GET /secrets/{name}/{version}, the version empty for the latest.
	name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/secrets/"), "/")
	value, ok := kv.secrets[name]
	if !ok || r.Method != http.MethodGet {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"code":"SecretNotFound","message":"A secret with (name/id) `+name+` was not found in this key vault."}}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"value":      value,
		"id":         vaultURL + "/secrets/" + name + "/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		"attributes": map[string]any{"enabled": true, "created": 1764000000, "updated": 1764000000},
	})
}

// examples/azureml/src/get_secret.py, as a job runs it before the
// launcher, reads the connection string from the workspace's Key Vault
// with the compute's managed identity: through the vault's Bearer
// challenge, over TLS, printing only the secret. A secret that is not
// there exits 1 with the reason, which the launcher, --strict, turns into
// a step that does not run.
func TestAzureMLKeyVaultSecret(t *testing.T) {
	python := pythonEnv(t, "current")
	script := filepath.Join(repoRoot, "examples", "azureml", "src", "get_secret.py")
	connection := "InstrumentationKey=4a1b2c3d-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"
	kv := newKeyVault(t, map[string]string{"appinsights-connection-string": connection})

	cmd := exec.Command(python, script)
	cmd.Env = append(withoutOTel(os.Environ()), kv.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s", stderr.String())
	assert.Equal(t, connection, string(out), "the secret alone, for $(...)")
	assert.Equal(t, []string{"myvault.vault.azure.net:443"}, kv.tunnel.asked())
	kv.mu.Lock()
	assert.Equal(t, 1, kv.challenge, "one challenge, then the token")
	kv.mu.Unlock()

	cmd = exec.Command(python, script)
	cmd.Env = append(withoutOTel(os.Environ()), append(kv.env, "SECRET_NAME=not-there")...)
	stderr.Reset()
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Empty(t, out)
	assert.Contains(t, stderr.String(), "get_secret.py: could not read the secret not-there of "+vaultURL)
	assert.Contains(t, stderr.String(), "SecretNotFound")
}
