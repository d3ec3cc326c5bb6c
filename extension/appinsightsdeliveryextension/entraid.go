// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"go.uber.org/zap"
)

// The credentials entra_id.credential may name.
const (
	credentialManagedIdentity  = "managed_identity"
	credentialWorkloadIdentity = "workload_identity"
	credentialAzureCLI         = "azure_cli"
	credentialEnvironment      = "environment"
)

var credentials = []string{credentialManagedIdentity, credentialWorkloadIdentity, credentialAzureCLI, credentialEnvironment}

// monitorScope is the scope Application Insights ingestion takes tokens
// for.
const monitorScope = "https://monitor.azure.com/.default"

// EntraIDConfig signs every request to Application Insights with a
// Microsoft Entra ID token, for resources with local (instrumentation
// key) authentication disabled.
type EntraIDConfig struct {
	// Credential is how the collector obtains tokens; empty signs nothing.
	//   managed_identity   the compute's managed identity (Azure ML compute,
	//                      AKS node, VM); a user-assigned one with client_id
	//   workload_identity  a federated token file: AKS workload identity,
	//                      CI with federated credentials (AZURE_TENANT_ID,
	//                      AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE)
	//   azure_cli          whoever `az login` signed in: a developer
	//   environment        a service principal's secret or certificate
	//                      (AZURE_TENANT_ID, AZURE_CLIENT_ID and
	//                      AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH)
	Credential string `mapstructure:"credential"`
	// ClientID picks a user-assigned managed identity, or overrides
	// AZURE_CLIENT_ID for workload_identity.
	ClientID string `mapstructure:"client_id"`
	// Scope is what tokens are asked for; Application Insights takes
	// https://monitor.azure.com/.default.
	Scope string `mapstructure:"scope"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func (c EntraIDConfig) enabled() bool { return c.Credential != "" }

// identity names the identity the credential signs in as, for messages.
func (c EntraIDConfig) identity() string {
	switch {
	case c.ClientID != "":
		return "client_id " + c.ClientID
	case c.Credential == credentialManagedIdentity:
		return "the system-assigned identity"
	case c.Credential == credentialAzureCLI:
		return "whoever az login signed in"
	default:
		return "AZURE_CLIENT_ID"
	}
}

// tokenError is a token that could not be had, or refreshed: no request
// reached ingestion, so it is the identity to check, not the network.
type tokenError struct {
	refresh bool
	err     error
}

func (e *tokenError) Error() string {
	if e.refresh {
		return "could not refresh the Entra ID token: " + e.err.Error()
	}
	return "could not get an Entra ID token: " + e.err.Error()
}

func (e *tokenError) Unwrap() error { return e.err }

func (c EntraIDConfig) validate() []error {
	var errs []error
	switch c.Credential {
	case "":
		return nil
	case credentialManagedIdentity, credentialWorkloadIdentity:
	case credentialAzureCLI, credentialEnvironment:
		if c.ClientID != "" {
			errs = append(errs, fmt.Errorf("entra_id.client_id: only managed_identity and workload_identity take one, not %q", c.Credential))
		}
	default:
		errs = append(errs, fmt.Errorf("entra_id.credential: %q is none of %v", c.Credential, credentials))
	}
	if c.Scope == "" {
		errs = append(errs, errors.New("entra_id.scope: empty"))
	}
	return errs
}

// newCredential builds the credential the configuration names. It reads
// the environment it needs now, so a missing variable stops the start.
func (c EntraIDConfig) newCredential() (azcore.TokenCredential, error) {
	switch c.Credential {
	case credentialManagedIdentity:
		var opts azidentity.ManagedIdentityCredentialOptions
		if c.ClientID != "" {
			opts.ID = azidentity.ClientID(c.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(&opts)
	case credentialWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientID: c.ClientID})
	case credentialAzureCLI:
		return azidentity.NewAzureCLICredential(nil)
	case credentialEnvironment:
		return azidentity.NewEnvironmentCredential(nil)
	}
	return nil, fmt.Errorf("entra_id.credential: %q is none of %v", c.Credential, credentials)
}

// tokenSource hands out tokens from one credential, shared by every
// exporter the extension wraps. azidentity caches a token until shortly
// before it expires; a refresh asks past that cache.
type tokenSource struct {
	credential azcore.TokenCredential
	// request asks for a token of the configured scope, built once.
	request policy.TokenRequestOptions
	// claimsRefresh: a refresh asks for a token issued from now on, a
	// claims request every credential but the Azure CLI's answers with a
	// new token rather than its cached one.
	claimsRefresh bool

	mu          sync.Mutex // one refresh at a time
	refreshedAt time.Time
}

// minRefreshInterval bounds how often 401 answers refresh the token: the
// requests refused at once share one refresh.
const minRefreshInterval = 10 * time.Second

func newTokenSource(cfg EntraIDConfig, newCredential func() (azcore.TokenCredential, error)) (*tokenSource, error) {
	cred, err := newCredential()
	if err != nil {
		return nil, fmt.Errorf("entra_id.credential %s: %w", cfg.Credential, err)
	}
	return &tokenSource{
		credential:    cred,
		request:       policy.TokenRequestOptions{Scopes: []string{cfg.Scope}},
		claimsRefresh: cfg.Credential != credentialAzureCLI,
	}, nil
}

// firstTokenTimeout bounds the start's first token: an identity endpoint
// that does not answer delays the start by at most this.
const firstTokenTimeout = 10 * time.Second

// firstToken asks for a token at start. A managed identity that is not on
// the machine (a compute without one, a client ID not assigned to it)
// fails the start, naming the fix: otherwise every request would wait in
// the spool for a token that never comes, on a machine that is often
// thrown away. Any other failure (the network, the identity endpoint's
// own trouble, a federated credential not yet propagated, an expired
// assertion) is logged, and each request tries again.
func (e *deliveryExtension) firstToken(ctx context.Context, tokens *tokenSource) error {
	ctx, cancel := context.WithTimeout(ctx, firstTokenTimeout)
	defer cancel()
	_, err := tokens.token(ctx)
	switch {
	case err == nil:
		return nil
	case e.cfg.EntraID.Credential == credentialManagedIdentity && identityMissing(err):
		return fmt.Errorf("entra_id.credential %s: %s has no token here (%s). %s",
			e.cfg.EntraID.Credential, e.cfg.EntraID.identity(), firstLine(err), e.cfg.EntraID.fix())
	default:
		e.logger.Warn("Could not get a first Entra ID token; telemetry is kept and each request tries again",
			zap.String("credential", e.cfg.EntraID.Credential), zap.String("identity", e.cfg.EntraID.identity()), zap.Error(err))
		return nil
	}
}

// identityMissing tells an identity that is not there from a failure to
// reach it: the identity endpoint answered 400 (no such identity on this
// machine, or a client ID not assigned to it), or the credential found
// nothing to use (azidentity's credential-unavailable errors, which it
// marks NonRetriable; an AuthenticationFailedError with no answer is the
// network).
func identityMissing(err error) bool {
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) {
		return failed.RawResponse != nil && failed.RawResponse.StatusCode == http.StatusBadRequest
	}
	var unavailable interface{ NonRetriable() }
	return errors.As(err, &unavailable)
}

// firstLine is an azidentity error without the request and answer it
// prints on the lines after, with the identity endpoint's status.
func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	line = strings.TrimSpace(line)
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil {
		line += " The identity endpoint answered " + failed.RawResponse.Status + "."
	}
	return line
}

// fix says what gives the credential an identity.
func (c EntraIDConfig) fix() string {
	switch c.Credential {
	case credentialManagedIdentity:
		return "Assign a managed identity to the machine and grant it Monitoring Metrics Publisher on the Application Insights resource: " +
			"on Azure ML, identity: {type: managed} in the job, or az ml compute update --name <compute> --identity-type system_assigned; " +
			"with entra_id.client_id, an identity of that client ID must be assigned; or unset entra_id.credential to send with the connection string's key"
	default:
		return "Grant the identity Monitoring Metrics Publisher on the Application Insights resource"
	}
}

// token is the credential's current token.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	tok, err := s.credential.GetToken(ctx, s.request)
	if err != nil {
		return "", &tokenError{err: err}
	}
	return tok.Token, nil
}

// refresh returns a token newer than the one ingestion refused, taken at
// refusedTaken; false when a refresh was made too recently to try again,
// and the refusal stands.
func (s *tokenSource) refresh(ctx context.Context, refusedTaken time.Time) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.refreshedAt.After(refusedTaken) {
		// Another request refreshed since: the cache holds the new token.
		tok, err := s.token(ctx)
		return tok, err == nil, err
	}
	if now.Sub(s.refreshedAt) < minRefreshInterval {
		return "", false, nil
	}
	s.refreshedAt = now
	opts := s.request
	if s.claimsRefresh {
		opts.Claims = fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, now.Unix())
	}
	tok, err := s.credential.GetToken(ctx, opts)
	if err != nil {
		return "", false, &tokenError{refresh: true, err: err}
	}
	return tok.Token, true, nil
}

// signer adds a fresh Entra ID token to every request it sends, below the
// spool: a token is never written to disk, and a request sent again days
// later is signed then. On a 401 it refreshes the token and sends once
// more before the 401 counts.
type signer struct {
	next   http.RoundTripper
	tokens *tokenSource
}

func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return s.next.RoundTrip(req) // the exporter's own auth: signed already
	}
	body, err := bodyOf(req)
	if err != nil {
		return nil, err
	}
	taken := time.Now()
	tok, err := s.tokens.token(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := s.send(req, body, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	fresh, ok, err := s.tokens.refresh(req.Context(), taken)
	if !ok {
		// The 401 stands; the deliverer reports it, and a refresh error
		// says why it could not be tried.
		if err != nil {
			_ = resp.Body.Close()
			return nil, err
		}
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close()
	return s.send(req, body, fresh)
}

func (s *signer) send(req *http.Request, body []byte, token string) (*http.Response, error) {
	signed := withBody(req, body)
	signed.Header.Set("Authorization", "Bearer "+token)
	return s.next.RoundTrip(signed)
}

// bodyOf reads a request's body, which then can be sent more than once.
func bodyOf(req *http.Request) ([]byte, error) {
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	body, err := drainBody(req)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}
