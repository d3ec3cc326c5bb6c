// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

var queryCLI = buildOnce("runcontext-query", ".", "./cmd/runcontext-query")

// seedQueries are the seed's four queries, as users run them.
var seedQueries = []string{
	"traces | where customDimensions.parent_run_id == '" + trainingRun.parentRunID + "'",
	"traces | where timestamp > ago(7d) and customDimensions.run_type == 'training'",
	"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR'",
	"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR' | summarize count()",
}

// apiBody is the query API's answer.
type apiBody struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"columns"`
		Rows [][]any `json:"rows"`
	} `json:"tables"`
}

// messages are a result's message column, sorted, or its single count.
func (b apiBody) messages(t *testing.T) []string {
	t.Helper()
	require.Len(t, b.Tables, 1)
	table := b.Tables[0]
	assert.Equal(t, "PrimaryResult", table.Name)
	col := -1
	for i, c := range table.Columns {
		if c.Name == "message" || c.Name == "count_" {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0, "a message or count_ column")
	var out []string
	for _, row := range table.Rows {
		switch v := row[col].(type) {
		case string:
			out = append(out, v)
		case float64:
			out = append(out, "count "+jsonNumber(v))
		}
	}
	sort.Strings(out)
	return out
}

func jsonNumber(f float64) string { b, _ := json.Marshal(f); return string(b) }

// expected computes a seed query's answer from the stored envelopes
// directly, as Application Insights would store them: no query engine.
func expected(envs []ingestion.Envelope, query int) []string {
	var out []string
	since := time.Now().Add(-7 * 24 * time.Hour)
	for _, e := range envs {
		if e.Name != messageEnvelope {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, e.Time)
		p := e.Data.BaseData.Properties
		var keep bool
		switch query {
		case 0:
			keep = p["parent_run_id"] == trainingRun.parentRunID
		case 1:
			keep = at.After(since) && p["run_type"] == "training"
		default:
			keep = at.After(since) && p["Level"] == "ERROR"
		}
		if keep {
			out = append(out, e.Data.BaseData.Message)
		}
	}
	sort.Strings(out)
	if query == 3 {
		return []string{"count " + jsonNumber(float64(len(out)))}
	}
	return out
}

// A newcomer's path: make run's collector (config/local.yaml), the
// example step through the SDK and a printing step under
// runcontext-launch sending to it; then the seed's four queries, verbatim,
// with runcontext-query on the store folder and with curl-like GETs on
// the query API. Both give what the stored envelopes say, computed here
// without the engine.
func TestSeedQueriesOverWhatTheStepsSent(t *testing.T) {
	ingestAddr := freeAddr(t)
	c, envelopesPath := localCollector(t, "RUNCONTEXT_INGESTION_ENDPOINT="+ingestAddr)
	runStep(t, c, "http/protobuf", trainingRun)

	// A step that only prints, under the launcher, with the same run.
	bin, err := stepLauncher()
	require.NoError(t, err)
	cmd := exec.Command(bin, "--collector", collectorBinary(t), "--config", configPath("azure.yaml"), "--",
		"sh", "-c", "echo 'INFO:root:epoch 1 finished'; echo 'ERROR:root:shard 3 unreadable' >&2")
	cmd.Env = append(os.Environ(),
		// The key config/local.yaml's endpoint takes.
		"APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://"+ingestAddr+"/",
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
		"OTEL_SERVICE_NAME=printing-step",
		"OTEL_RESOURCE_ATTRIBUTES="+trainingRun.resourceAttributes())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	envs := readEnvelopes(t, envelopesPath)
	require.Contains(t, expected(envs, 0), "ERROR:root:shard 3 unreadable", "the launcher's line is in the store")
	require.Contains(t, expected(envs, 2), "could not write checkpoint")

	cli, err := queryCLI()
	require.NoError(t, err)
	store := filepath.Dir(envelopesPath)
	for i, q := range seedQueries {
		want := expected(envs, i)
		require.NotEmpty(t, want, q)

		var fromCLI apiBody
		cmd := exec.Command(cli, "--data", store, "--output", "json", q)
		raw, err := cmd.Output()
		require.NoError(t, err, q)
		require.NoError(t, json.Unmarshal(raw, &fromCLI))
		assert.Equal(t, want, fromCLI.messages(t), "runcontext-query: %s", q)

		resp, err := http.Get("http://" + ingestAddr + "/v1/apps/local/query?" + url.Values{"query": {q}}.Encode())
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
		var fromAPI apiBody
		require.NoError(t, json.Unmarshal(body, &fromAPI))
		assert.Equal(t, want, fromAPI.messages(t), "query API: %s", q)
	}

	// The table a person reads: the count, aligned.
	table, err := exec.Command(cli, "--data", store, seedQueries[3]).Output()
	require.NoError(t, err)
	assert.Equal(t, "count_\n------\n"+strings.TrimPrefix(expected(envs, 3)[0], "count ")+"\n(1 rows)\n", string(table))

	// A wrong query: the service's error shape, with a 400.
	resp, err := http.Get("http://" + ingestAddr + "/v1/apps/local/query?" + url.Values{"query": {"traces | where Level == 'ERROR'"}}.Encode())
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.JSONEq(t, `{"error":{"message":"The request had some invalid properties","code":"BadArgumentError",
		"innererror":{"code":"SemanticError","message":"line 1, column 16: unknown column or name \"Level\"","line":1,"pos":16}}}`, string(body))
	c.stop(t)
}
