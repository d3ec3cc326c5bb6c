// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/entraidtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestiontest"
)

// workflowStep is what the tests run of a workflow's step.
type workflowStep struct {
	Name  string            `yaml:"name"`
	Shell string            `yaml:"shell"`
	Env   map[string]string `yaml:"env"`
	Run   string            `yaml:"run"`
}

// readWorkflow reads examples/github-actions/NAME: its permissions, and
// each job's default shell and steps.
func readWorkflow(t *testing.T, name string) (wf struct {
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Defaults struct {
			Run struct{ Shell string } `yaml:"run"`
		} `yaml:"defaults"`
		Steps []workflowStep `yaml:"steps"`
	} `yaml:"jobs"`
}) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "github-actions", name))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	return wf
}

// runnerPath is a PATH with runcontext-launch and otelcol-runcontext on it,
// as the setup action leaves a job's.
func runnerPath(t *testing.T) string {
	t.Helper()
	launcher, err := stepLauncher()
	require.NoError(t, err)
	bin := t.TempDir()
	require.NoError(t, os.Symlink(launcher, filepath.Join(bin, "runcontext-launch")))
	require.NoError(t, os.Symlink(collectorBinary(t), filepath.Join(bin, "otelcol-runcontext")))
	return bin + ":" + os.Getenv("PATH")
}

// shellCommand is a workflow's shell line as GitHub runs a step with it:
// the step's script written to a file, whose path replaces {0}, and the
// shell's program found on the job's PATH.
func shellCommand(t *testing.T, path, shell, script string) *exec.Cmd {
	t.Helper()
	file := filepath.Join(t.TempDir(), "step.sh")
	require.NoError(t, os.WriteFile(file, []byte(script), 0o600))
	args := strings.Fields(strings.ReplaceAll(shell, "{0}", file))
	var program string
	for _, dir := range filepath.SplitList(path) {
		if _, err := os.Stat(filepath.Join(dir, args[0])); err == nil {
			program = filepath.Join(dir, args[0])
			break
		}
	}
	require.NotEmpty(t, program, "%s on the job's PATH", args[0])
	cmd := exec.Command(program, args[1:]...)
	cmd.Env = append(withoutOTel(os.Environ()), "PATH="+path)
	return cmd
}

// The example workflow's default shell wraps a step without editing it:
// run by the launcher from PATH, each line the step prints arrives once
// with the job's run context, and a failing command in a pipeline fails
// the step with its exit code (bash -eo pipefail), after what it printed
// before arrived.
func TestGitHubActionsDefaultShellWrapsEveryStep(t *testing.T) {
	shell := readWorkflow(t, "train.yml").Jobs["train"].Defaults.Run.Shell
	require.True(t, strings.HasPrefix(shell, "runcontext-launch "), shell)

	ingest := ingestiontest.New(t)
	cmd := shellCommand(t, runnerPath(t), shell, "echo prepared 3 rows\necho 'WARNING: disk almost full' >&2\nfalse | cat\necho not reached\n")
	cmd.Env = append(cmd.Env, githubJob...)
	cmd.Env = append(cmd.Env,
		"RUNCONTEXT_CONFIG="+configPath("azure.yaml"),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
		"APPLICATIONINSIGHTS_CONNECTION_STRING="+ingest.ConnectionString())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode(), "the pipeline's failure, as bash -eo pipefail gives it: %s", out)
	assert.NotContains(t, string(out), "not reached")

	levels := map[string]string{}
	for _, e := range traces(ingest.Envelopes(t)) {
		props := e.Data.BaseData.Properties
		if props["log.iostream"] == "" {
			continue // the launcher's summary
		}
		_, seen := levels[e.Data.BaseData.Message]
		assert.False(t, seen, "%q arrived twice", e.Data.BaseData.Message)
		levels[e.Data.BaseData.Message] = props["Level"]
		assert.Equal(t, "7012345678", props["parent_run_id"])
		assert.Equal(t, "7012345678/2/prep", props["step_id"])
		assert.Equal(t, "https://github.com/org/models/actions/runs/7012345678", props["run_url"])
	}
	assert.Equal(t, map[string]string{"prepared 3 rows": "INFO", "WARNING: disk almost full": "WARNING"}, levels)
}

// The keyless workflow's token file, end to end: its "Azure token" step,
// run here as GitHub runs it against a stand-in for the job's OIDC token
// endpoint, writes the job's token where AZURE_FEDERATED_TOKEN_FILE (set
// through GITHUB_ENV) says; its launched step, with the step's own
// variables, then signs in at the local Entra ID with that token as a
// federated assertion, and ingestion, which takes only Entra ID's tokens,
// gets the step's lines.
func TestGitHubActionsKeylessTokenFile(t *testing.T) {
	wf := readWorkflow(t, "train-keyless.yml")
	assert.Equal(t, "write", wf.Permissions["id-token"], "a job gets an OIDC token only with id-token: write")
	job := wf.Jobs["train"]
	steps := map[string]workflowStep{}
	for _, s := range job.Steps {
		steps[s.Name] = s
	}
	tokenStep, prep := steps["Azure token"], steps["prep"]
	require.NotEmpty(t, tokenStep.Run)
	require.Equal(t, "workload_identity", prep.Env["RUNCONTEXT_ENTRA_CREDENTIAL"])

	// GitHub's OIDC token endpoint: the job's request token, the audience
	// Entra ID's federated credentials expect.
	const requestToken, idToken = "gh-request-token-81c2", "eyJhbGciOiJSUzI1NiJ9.gh-job-token.sig"
	oidc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer "+requestToken || r.URL.Query().Get("audience") != "api://AzureADTokenExchange" {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"count": "1", "value": idToken})
	}))
	t.Cleanup(oidc.Close)
	githubEnv := filepath.Join(t.TempDir(), "GITHUB_ENV")
	shell, err := exec.LookPath(tokenStep.Shell)
	require.NoError(t, err)
	fetch := exec.Command(shell, "-c", tokenStep.Run)
	fetch.Env = append(os.Environ(),
		"ACTIONS_ID_TOKEN_REQUEST_URL="+oidc.URL+"/token?api-version=2.0", // GitHub's has a query
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken,
		"RUNNER_TEMP="+t.TempDir(),
		"GITHUB_ENV="+githubEnv)
	out, err := fetch.CombinedOutput()
	require.NoError(t, err, "%s", out)
	exported, err := os.ReadFile(githubEnv)
	require.NoError(t, err)
	tokenFile, ok := strings.CutPrefix(strings.TrimSpace(string(exported)), "AZURE_FEDERATED_TOKEN_FILE=")
	require.True(t, ok, "%s", exported)
	written, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	assert.Equal(t, idToken, string(written), "the token alone: azidentity sends the file as it is")

	authority := entraidtest.New(t)
	authority.TrustAssertion(idToken)
	ingest := ingestiontest.New(t)
	ingest.RequireToken(authority.Valid)
	vars := strings.NewReplacer(
		"${{ vars.APPLICATIONINSIGHTS_CONNECTION_STRING }}", ingest.ConnectionString(),
		"${{ vars.AZURE_CLIENT_ID }}", entraidtest.ClientID,
		"${{ vars.AZURE_TENANT_ID }}", entraidtest.TenantID)
	// The step's command replaced by one that prints: the token file is
	// what is under test.
	cmd := shellCommand(t, runnerPath(t), job.Defaults.Run.Shell, "echo epoch 1 loss 0.5\n")
	cmd.Env = append(cmd.Env, githubJob...)
	for k, v := range prep.Env {
		cmd.Env = append(cmd.Env, k+"="+vars.Replace(v))
	}
	// azidentity asks login.microsoftonline.com about an authority it
	// does not know, as the real one: that name, through a tunnel, answers
	// with the local authority's metadata.
	discovery := newTunnel(t, "login.microsoftonline.com", &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target, err := url.Parse(authority.URL)
			if err == nil {
				r.SetURL(target)
			}
		},
		Transport: authority.Client().Transport,
	})
	trusted := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(trusted, []byte(readText(t, authority.CAFile)+readText(t, discovery.caFile)), 0o600))
	cmd.Env = append(cmd.Env, strings.TrimSpace(string(exported)),
		"AZURE_AUTHORITY_HOST="+authority.URL, "SSL_CERT_FILE="+trusted,
		"HTTPS_PROXY="+discovery.proxyURL, "NO_PROXY=127.0.0.1",
		"RUNCONTEXT_CONFIG="+configPath("azure.yaml"), "RUNCONTEXT_DATA_DIR="+t.TempDir())
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	var lines []string
	for _, e := range traces(ingest.Envelopes(t)) {
		if e.Data.BaseData.Properties["log.iostream"] != "" {
			lines = append(lines, e.Data.BaseData.Message)
		}
	}
	assert.Equal(t, []string{"epoch 1 loss 0.5"}, lines)
	assert.Equal(t, []string{"login.microsoftonline.com:443"}, discovery.asked())
	assert.Zero(t, ingest.Unauthorized())
	assert.NotEmpty(t, authority.Issued(), "signed in with the job's token")
}

func readText(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(raw)
}
