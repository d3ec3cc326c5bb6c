// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// store is a copy of the query package's fixture store: the CLI writes
// its index next to the envelopes.
func store(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "extension", "appinsightsingestionextension", "query", "testdata", "store", "envelopes.jsonl"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "envelopes.jsonl"), raw, 0o600))
	return dir
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTableIsAligned(t *testing.T) {
	code, out, _ := runCLI(t, "", "--data", store(t), "requests | summarize failed = countif(success == false), steps = count() by name | order by name asc")
	require.Equal(t, 0, code)
	assert.Equal(t, ""+
		"name   failed  steps\n"+
		"----   ------  -----\n"+
		"prep   0       8\n"+
		"score  0       8\n"+
		"train  2       8\n"+
		"(3 rows)\n", out)
}

func TestJSONIsTheQueryAPIsBody(t *testing.T) {
	code, out, _ := runCLI(t, "", "--data", store(t), "--output", "json", "traces | summarize count()")
	require.Equal(t, 0, code)
	var body struct {
		Tables []struct {
			Name    string
			Columns []struct{ Name, Type string }
			Rows    [][]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &body))
	require.Len(t, body.Tables, 1)
	assert.Equal(t, "PrimaryResult", body.Tables[0].Name)
	assert.Equal(t, []struct{ Name, Type string }{{"count_", "long"}}, body.Tables[0].Columns)
	assert.Equal(t, [][]any{{float64(200)}}, body.Tables[0].Rows)
}

func TestCSVAndQueryFromStandardInput(t *testing.T) {
	code, out, _ := runCLI(t, "requests\n| distinct name\n| order by name asc", "--data", store(t), "--output", "csv", "-f", "-")
	require.Equal(t, 0, code)
	assert.Equal(t, "name\nprep\nscore\ntrain\n", out)
}

// A wrong query exits 1 and shows where, under the query's line.
func TestQueryErrorSaysWhere(t *testing.T) {
	code, out, errOut := runCLI(t, "", "--data", store(t), "traces\n| where Level == 'ERROR'")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Equal(t, "runcontext-query: query error: line 2, column 9: unknown column or name \"Level\"\n"+
		"  | where Level == 'ERROR'\n"+
		"          ^\n", errOut)
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no query", []string{"--data", t.TempDir()}, "no query"},
		{"two queries", []string{"--data", t.TempDir(), "traces", "requests"}, "one query"},
		{"no store", []string{"--data", filepath.Join(t.TempDir(), "nothing"), "traces"}, "no store at"},
		{"bad output", []string{"--output", "xml", "traces"}, `--output "xml"`},
		{"bad timespan", []string{"--data", t.TempDir(), "--timespan", "7 days", "traces"}, "--timespan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", tc.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut, tc.want)
		})
	}
}

func TestSchemaListsTheTables(t *testing.T) {
	code, out, _ := runCLI(t, "", "--schema")
	require.Equal(t, 0, code)
	for _, want := range []string{"traces\n", "  customDimensions             dynamic\n", "customMetrics\n", "  valueSum                     real\n"} {
		assert.Contains(t, out, want)
	}
}
