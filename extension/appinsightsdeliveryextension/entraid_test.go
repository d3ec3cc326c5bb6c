// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/metadata"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol/tracktest"
)

// keyless is an ingestion endpoint that takes only tokens the local
// authority issued, and a configuration whose credential signs in there
// with azidentity's client secret flow.
type keyless struct {
	authority *entraidtest.Authority
	ingest    *tracktest.Server
}

func newKeyless(t *testing.T) *keyless {
	k := &keyless{authority: entraidtest.New(t), ingest: tracktest.New(t)}
	k.ingest.RequireToken(k.authority.Valid)
	return k
}

// onManagedIdentity puts the test on compute whose managed identity is
// the authority's (Azure ML's MSI_ENDPOINT), and returns a configuration
// that signs with it.
func (k *keyless) onManagedIdentity(t *testing.T) *Config {
	t.Helper()
	for _, kv := range k.authority.ManagedIdentityEnv() {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	cfg := fastRetries(t.TempDir())
	cfg.EntraID.Credential = credentialManagedIdentity
	return cfg
}

// signIn makes the extension sign in at the local authority.
func (k *keyless) signIn(e *deliveryExtension) {
	e.newCredential = func() (azcore.TokenCredential, error) {
		return azidentity.NewClientSecretCredential(entraidtest.TenantID, entraidtest.ClientID, entraidtest.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: k.authority.URL},
				Transport: k.authority.Client(),
			}, DisableInstanceDiscovery: true})
	}
}

func keylessConfig(dir string) *Config {
	cfg := fastRetries(dir)
	cfg.EntraID.Credential = credentialEnvironment // replaced by signIn
	return cfg
}

// assertNoTokenLeaked checks the spool's folder and every log line for
// each token the authority issued.
func (k *keyless) assertNoTokenLeaked(t *testing.T, s *spooled) {
	t.Helper()
	var lines []string
	for _, entry := range s.logs.All() {
		lines = append(lines, fmt.Sprint(entry.Message, entry.ContextMap()))
	}
	k.authority.AssertNotLeaked(t, s.dir, lines...)
}

// Spooled requests are signed when they are sent: a request written while
// ingestion was down goes out with a token, and the spool never held it.
func TestEntraIDSignsSpooledRequestsWhenSent(t *testing.T) {
	k := newKeyless(t)
	k.ingest.Inject(tracktest.Fault{Status: http.StatusServiceUnavailable, Requests: 2})
	s := startSpooledWith(t, keylessConfig(t.TempDir()), k.signIn)

	status, _ := s.track(t, k.ingest.URL, "keyless-1", "keyless-2")
	assert.Equal(t, http.StatusOK, status, "the spool took it")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, map[string]int{"keyless-1": 1, "keyless-2": 1}, received(t, k.ingest))
	assert.Zero(t, k.ingest.Unauthorized(), "every attempt carried a valid token")
	s.assertAccounting(t)
	k.assertNoTokenLeaked(t, s)
}

// A 401 (a token revoked, or expired early) gets one refresh: a new
// credential, a new token, and the request goes out again at once, with no
// outage logged.
func TestEntraIDRefreshesOnceOn401(t *testing.T) {
	k := newKeyless(t)
	s := startSpooledWith(t, keylessConfig(t.TempDir()), k.signIn)
	s.track(t, k.ingest.URL, "before-revoke")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Len(t, k.authority.Issued(), 1, "the credential caches its token")

	k.authority.Revoke()
	s.track(t, k.ingest.URL, "after-revoke")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, k.ingest.Unauthorized(), "one 401, then the refreshed token")
	assert.Len(t, k.authority.Issued(), 2)
	assert.Zero(t, s.logs.FilterMessageSnippet("Application Insights").Len(), "a refreshed token is no failure to report")
	k.assertNoTokenLeaked(t, s)
}

// A credential ingestion keeps refusing is refreshed once, then the 401
// counts as a failure like any other: the request stays in the spool and
// the operator is told what to check.
func TestEntraIDPersistent401KeepsTheRequest(t *testing.T) {
	k := newKeyless(t)
	k.ingest.RequireToken(func(string) bool { return false }) // the identity lacks the role
	s := startSpooledWith(t, keylessConfig(t.TempDir()), k.signIn)
	s.track(t, k.ingest.URL, "refused")
	warned := func() bool { return s.logs.FilterMessageSnippet("Could not deliver").Len() > 0 }
	require.Eventually(t, warned, 10*time.Second, 10*time.Millisecond)
	warning := s.logs.FilterMessageSnippet("Could not deliver").All()[0].ContextMap()
	assert.Equal(t, int64(http.StatusUnauthorized), warning["status"])
	assert.Contains(t, warning["what_to_do"], "Monitoring Metrics Publisher role")
	assert.Zero(t, s.counter(t, "appinsights_delivery_items_delivered"))
	assert.Equal(t, 1, s.spoolFiles(t), "the request stays")
	assert.Len(t, k.authority.Issued(), 2, "one token, refreshed at most once within %s", minRefreshInterval)
	k.assertNoTokenLeaked(t, s)
}

// Without a spool the exporter's requests are signed on their way too.
func TestEntraIDSignsWithoutASpool(t *testing.T) {
	k := newKeyless(t)
	s := startSpooledWith(t, keylessConfig(""), k.signIn)
	status, body := s.track(t, k.ingest.URL, "direct")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, 1, body.ItemsAccepted)
	assert.Equal(t, map[string]int{"direct": 1}, received(t, k.ingest))
}

// A credential that cannot be built stops the start, naming the setting.
func TestEntraIDCredentialMissingItsEnvironmentFailsStart(t *testing.T) {
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"} {
		t.Setenv(v, "")
	}
	for _, credential := range []string{credentialWorkloadIdentity, credentialEnvironment} {
		t.Run(credential, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.EntraID.Credential = credential
			ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
			require.NoError(t, err)
			err = ext.Start(context.Background(), componenttest.NewNopHost())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "entra_id.credential "+credential)
		})
	}
}

// Managed identity, built from the environment as in production (Azure
// ML compute's MSI_ENDPOINT): MSAL caches its tokens for the whole
// process, so only a claims request gets past the cache to a new token.
func TestEntraIDManagedIdentityRefreshesPastItsCache(t *testing.T) {
	k := newKeyless(t)
	cfg := k.onManagedIdentity(t)
	s := startSpooled(t, cfg)

	s.track(t, k.ingest.URL, "first")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 1 }, 10*time.Second, 10*time.Millisecond)
	k.authority.Revoke()
	s.track(t, k.ingest.URL, "after-revoke")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, k.ingest.Unauthorized())
	assert.Len(t, k.authority.Issued(), 2, "one token, then one more past the cache")
	k.assertNoTokenLeaked(t, s)
}

// A managed identity that is not on the machine (here, a client ID the
// compute's identity endpoint does not know, as Azure ML's answers) stops
// the start, naming the fix: the spool would otherwise fill on a compute
// that is thrown away, with nothing said. The compute's own identity
// starts and signs.
func TestEntraIDManagedIdentityNotOnTheMachineFailsStart(t *testing.T) {
	k := newKeyless(t)
	cfg := k.onManagedIdentity(t)
	cfg.EntraID.ClientID = "99999999-0000-0000-0000-000000000000"
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = ext.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "entra_id.credential managed_identity: client_id 99999999-0000-0000-0000-000000000000 has no token here")
	assert.Contains(t, err.Error(), "identity: {type: managed}")
	assert.Contains(t, err.Error(), "az ml compute update")
	assert.Contains(t, err.Error(), "Monitoring Metrics Publisher")
	assert.NotContains(t, err.Error(), entraidtest.ManagedIdentitySecret)
	_, statErr := os.Stat(filepath.Join(cfg.Spool.Directory, "lock"))
	assert.True(t, os.IsNotExist(statErr), "the spool is not opened")

	cfg.EntraID.ClientID = entraidtest.AssignedClientID
	s := startSpooled(t, cfg)
	s.track(t, k.ingest.URL, "assigned")
	require.Eventually(t, func() bool { return s.counter(t, "appinsights_delivery_items_delivered") == 1 }, 10*time.Second, 10*time.Millisecond)
}

// failingCredential never has a token, with an error that says nothing
// of why (not azidentity's): the start goes on, and each request tries.
type failingCredential struct{}

func (failingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("ManagedIdentityCredential: no default identity is assigned to this resource")
}

// A token that cannot be had is the identity's fault, not the network's:
// the warning names the credential and the identity, and the telemetry
// stays in the spool.
func TestEntraIDTokenFailureNamesTheIdentity(t *testing.T) {
	ingest := tracktest.New(t)
	cfg := fastRetries(t.TempDir())
	cfg.EntraID.Credential = credentialManagedIdentity
	cfg.EntraID.ClientID = "00000000-0000-0000-0000-00000000abcd"
	cfg.ShutdownTimeout = 200 * time.Millisecond
	s := startSpooledWith(t, cfg, func(e *deliveryExtension) {
		e.newCredential = func() (azcore.TokenCredential, error) { return failingCredential{}, nil }
	})
	s.track(t, ingest.URL, ids("tokenless", 2)...)
	var warning string
	require.Eventually(t, func() bool {
		warnings := s.logs.FilterMessageSnippet("Could not deliver to Application Insights").All()
		if len(warnings) == 0 {
			return false
		}
		warning = fmt.Sprint(warnings[0].ContextMap())
		return true
	}, 10*time.Second, time.Millisecond)
	assert.Contains(t, warning, "entra_id.credential managed_identity")
	assert.Contains(t, warning, "client_id 00000000-0000-0000-0000-00000000abcd")
	assert.NotContains(t, warning, "check the network")
	assert.Zero(t, ingest.Requests(), "nothing reached ingestion")
	assert.Equal(t, int64(2), s.ext.spool.Stats().Items, "the telemetry stays")
}
