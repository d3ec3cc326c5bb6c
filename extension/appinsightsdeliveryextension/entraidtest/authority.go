// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package entraidtest is a local Microsoft Entra ID for tests, issuing
// opaque tokens it can tell apart and revoke, in two of the ways
// azidentity asks for them:
//   - the token endpoint of a tenant, over TLS as the real one: the few
//     requests the client secret flow makes (instance discovery, tenant
//     metadata, the client-credentials grant), and the same grant with a
//     federated assertion in place of the secret (workload identity: a
//     token file, as AKS or a GitHub job gives one), for the assertions
//     it trusts;
//   - the managed identity endpoint of Azure ML compute (MSI_ENDPOINT and
//     MSI_SECRET), which a process outside the test can use as it is.
//
// It is a test helper, as processortest is.
package entraidtest // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"

import (
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// TenantID, ClientID and ClientSecret are the service principal the
	// authority knows.
	TenantID     = "00000000-0000-0000-0000-0000000000aa"
	ClientID     = "00000000-0000-0000-0000-0000000000bb"
	ClientSecret = "entraidtest-client-secret"
	// Scope is the only scope it issues tokens for: Application Insights'.
	Scope = "https://monitor.azure.com/.default"
)

// Authority is a running token endpoint.
type Authority struct {
	// URL is its base URL, as AZURE_AUTHORITY_HOST.
	URL string
	// CAFile holds the certificate it serves, for SSL_CERT_FILE.
	CAFile string

	srv *httptest.Server
	msi *httptest.Server

	mu      sync.Mutex
	trusted map[string]bool // federated assertions
	issued  []string
	revoked map[string]bool
	refused int
}

// New starts an authority; it stops when the test ends.
func New(t testing.TB) *Authority {
	t.Helper()
	a := &Authority{revoked: map[string]bool{}, trusted: map[string]bool{}}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	a.msi = httptest.NewServer(http.HandlerFunc(a.serveManagedIdentity))
	t.Cleanup(a.msi.Close)
	a.URL = a.srv.URL + "/"
	a.CAFile = filepath.Join(t.TempDir(), "authority-ca.crt")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})
	if err := os.WriteFile(a.CAFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// Client trusts the authority's certificate.
func (a *Authority) Client() *http.Client { return a.srv.Client() }

// Env is what azidentity's environment credential needs to sign in at
// this authority. A process outside the test also needs SSL_CERT_FILE
// set to CAFile.
func (a *Authority) Env() []string {
	return []string{
		"AZURE_AUTHORITY_HOST=" + a.URL,
		"AZURE_TENANT_ID=" + TenantID,
		"AZURE_CLIENT_ID=" + ClientID,
		"AZURE_CLIENT_SECRET=" + ClientSecret,
	}
}

// TrustAssertion makes the authority take assertion, a token of an
// identity provider federated with ClientID (an AKS service account's, a
// GitHub job's), in place of the client secret.
func (a *Authority) TrustAssertion(assertion string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.trusted[assertion] = true
}

// ManagedIdentitySecret is what the managed identity endpoint expects in
// its "secret" header, as Azure ML compute sets MSI_SECRET.
const ManagedIdentitySecret = "entraidtest-msi-secret"

// ManagedIdentityEnv is what azidentity's managed identity credential
// needs to take its tokens from this authority, as on Azure ML compute.
func (a *Authority) ManagedIdentityEnv() []string {
	return []string{
		"MSI_ENDPOINT=" + a.msi.URL + "/MSI/auth",
		"MSI_SECRET=" + ManagedIdentitySecret,
	}
}

// Issued returns the tokens issued so far, oldest first.
func (a *Authority) Issued() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.issued...)
}

// Revoke makes Valid refuse every token issued so far.
func (a *Authority) Revoke() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, tok := range a.issued {
		a.revoked[tok] = true
	}
}

// Valid tells whether the authority issued token and has not revoked it:
// what ingestion checks of a bearer token.
func (a *Authority) Valid(token string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, tok := range a.issued {
		if tok == token {
			return !a.revoked[tok]
		}
	}
	return false
}

// Refused counts the token requests refused for a wrong client, secret
// or scope.
func (a *Authority) Refused() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused
}

func (a *Authority) serve(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	base := "https://" + host + "/" + TenantID
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/discovery/instance"):
		writeJSON(w, map[string]any{
			"tenant_discovery_endpoint": base + "/v2.0/.well-known/openid-configuration",
			"api-version":               "1.1",
			"metadata":                  []map[string]any{{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}},
		})
	case r.URL.Path == "/"+TenantID+"/v2.0/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"issuer":                 base + "/v2.0",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		})
	case r.URL.Path == "/"+TenantID+"/oauth2/v2.0/token":
		a.token(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]any{"error": "not_found", "error_description": r.URL.Path})
	}
}

func (a *Authority) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.refuse(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	form := r.PostForm
	if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != ClientID ||
		!slices.Contains(strings.Fields(form.Get("scope")), Scope) {
		a.refuse(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client or scope.")
		return
	}
	if form.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		a.mu.Lock()
		trusted := a.trusted[form.Get("client_assertion")]
		a.mu.Unlock()
		if !trusted {
			a.refuse(w, http.StatusUnauthorized, "invalid_client", "AADSTS700211: No matching federated identity record found for presented assertion.")
			return
		}
	} else if form.Get("client_secret") != ClientSecret {
		a.refuse(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": a.issue()})
}

// AssignedClientID is the client ID of the one user-assigned identity the
// stand-in's compute has.
const AssignedClientID = "11111111-2222-3333-4444-555555555555"

// serveManagedIdentity answers as Azure ML compute's MSI endpoint.
func (a *Authority) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	resource := strings.TrimSuffix(Scope, "/.default")
	if r.Header.Get("secret") != ManagedIdentitySecret || r.URL.Query().Get("resource") != resource {
		a.refuse(w, http.StatusBadRequest, "invalid_request", "wrong secret or resource")
		return
	}
	// The compute's identities: the system-assigned one (no client id)
	// and AssignedClientID; any other is not on this compute.
	if id := r.URL.Query().Get("clientid"); id != "" && id != AssignedClientID {
		a.refuse(w, http.StatusBadRequest, "invalid_request", "identity not found")
		return
	}
	writeJSON(w, map[string]any{
		"access_token": a.issue(),
		"expires_on":   strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
		"resource":     resource,
		"token_type":   "Bearer",
	})
}

// refuse answers a token request with an OAuth error, and counts it.
func (a *Authority) refuse(w http.ResponseWriter, status int, code, description string) {
	a.mu.Lock()
	a.refused++
	a.mu.Unlock()
	w.WriteHeader(status)
	writeJSON(w, map[string]any{"error": code, "error_description": description})
}

// AssertNotLeaked fails when a token the authority issued is in a file
// under dir, or in one of texts (a process's output, log lines).
func (a *Authority) AssertNotLeaked(t testing.TB, dir string, texts ...string) {
	t.Helper()
	issued := a.Issued()
	if len(issued) == 0 {
		t.Error("no token was issued: nothing was signed")
	}
	for _, tok := range issued {
		if dir != "" {
			files, err := FilesHolding(dir, tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) > 0 {
				t.Errorf("a token is on disk: %v", files)
			}
		}
		for _, text := range texts {
			if strings.Contains(text, tok) {
				t.Errorf("a token is in the output: %.200s", text)
			}
		}
	}
}

// FilesHolding lists the files under dir that contain secret.
func FilesHolding(dir, secret string) ([]string, error) {
	var holding []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(content), secret) {
			holding = append(holding, path)
		}
		return nil
	})
	return holding, err
}

func (a *Authority) issue() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := fmt.Sprintf("entraidtest-token-%d-%s", len(a.issued)+1, rand.Text())
	a.issued = append(a.issued, tok)
	return tok
}

func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
