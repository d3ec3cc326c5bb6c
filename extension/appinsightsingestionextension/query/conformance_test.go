// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query/storegen"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

var update = flag.Bool("update", false, "rewrite the conformance corpus's expected results from what the engine answers")

// fixtureNow is now() for the fixture store (storegen's -now).
var fixtureNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// corpusCase is one query of the corpus and its expected result.
type corpusCase struct {
	title, query, want string
}

// readCorpus reads blocks of "# title", the query's lines, and "=> " with
// the expected result as the query API's table (columns and rows).
func readCorpus(t *testing.T, path string) (header string, cases []corpusCase) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	blocks := strings.Split(strings.TrimSpace(string(raw)), "\n\n")
	header = blocks[0]
	for _, block := range blocks[1:] {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		require.True(t, strings.HasPrefix(lines[0], "# "), "a case starts with its title: %q", lines[0])
		c := corpusCase{title: strings.TrimPrefix(lines[0], "# ")}
		var query []string
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "=>") {
				c.want = strings.TrimSpace(strings.TrimPrefix(l, "=>"))
				continue
			}
			query = append(query, l)
		}
		c.query = strings.Join(query, "\n")
		cases = append(cases, c)
	}
	return header, cases
}

// resultJSON is a result as the API's table (columns and rows), on one
// line.
func resultJSON(t *testing.T, store *Store, query string) (string, error) {
	var body bytes.Buffer
	err := store.Query(query, fixtureNow, Span{}, func(res *kql.Result) error { return WriteAnswer(&body, res, false) })
	if err != nil {
		return "", err
	}
	var answer struct {
		Tables []json.RawMessage `json:"tables"`
	}
	require.NoError(t, json.Unmarshal(body.Bytes(), &answer))
	require.Len(t, answer.Tables, 1)
	var table map[string]any
	require.NoError(t, json.Unmarshal(answer.Tables[0], &table))
	require.Equal(t, "PrimaryResult", table["name"])
	b, err := json.Marshal(map[string]any{"columns": table["columns"], "rows": table["rows"]})
	require.NoError(t, err)
	return string(b), nil
}

// count is a query's single long.
func count(t *testing.T, store *Store, query string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, store.Query(query, fixtureNow, Span{}, func(res *kql.Result) error {
		rows, err := res.Rows()
		require.Len(t, rows, 1)
		n = rows[0][0].I
		return err
	}))
	return n
}

// kustoErrors are the errors Microsoft's Kusto.Language reports for each
// query, bound to these tables (internal/tools/node/kusto-check.js).
func kustoErrors(t *testing.T, queries []string) [][]map[string]any {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	modules := filepath.Join(root, ".build", "node", "node_modules")
	_, err = os.Stat(filepath.Join(modules, "@kusto", "language-service-next"))
	require.NoError(t, err, "Kusto.Language is not installed: run scripts/node-env.sh (make test does)")
	tables := Schema()
	in, err := json.Marshal(map[string]any{"tables": tables, "queries": queries})
	require.NoError(t, err)
	cmd := exec.Command("node", filepath.Join(root, "internal", "tools", "node", "kusto-check.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kusto-check.js: %s", stderr.String())
	var errs [][]map[string]any
	require.NoError(t, json.Unmarshal(out, &errs))
	require.Len(t, errs, len(queries))
	return errs
}

// The corpus: every query gives its expected result over the fixture
// store, and parses and binds without errors in Kusto.Language.
func TestConformanceCorpus(t *testing.T) {
	path := filepath.Join("testdata", "conformance", "queries.txt")
	header, cases := readCorpus(t, path)
	require.GreaterOrEqual(t, len(cases), 80)
	store := Open(filepath.Join("testdata", "store"))
	var queries []string
	for i := range cases {
		c := &cases[i]
		queries = append(queries, c.query)
		got, err := resultJSON(t, store, c.query)
		if !assert.NoError(t, err, "%s:\n%s", c.title, c.query) {
			continue
		}
		if *update {
			c.want = got
			continue
		}
		assert.JSONEq(t, c.want, got, "%s:\n%s", c.title, c.query)
	}
	for i, errs := range kustoErrors(t, queries) {
		assert.Empty(t, errs, "Kusto.Language refuses %q:\n%s", cases[i].title, cases[i].query)
	}
	if *update {
		var b strings.Builder
		b.WriteString(header + "\n")
		for _, c := range cases {
			b.WriteString("\n# " + c.title + "\n" + c.query + "\n=> " + c.want + "\n")
		}
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
}

// Queries outside the language or wrong against these tables: the engine
// refuses exactly those that Kusto.Language refuses, with an error that
// says where.
func TestInvalidQueriesAreRefusedAsKustoLanguageRefusesThem(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "conformance", "invalid.txt"))
	require.NoError(t, err)
	var queries []string
	for _, block := range strings.Split(string(raw), "\n\n") {
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
			if !strings.HasPrefix(l, "#") && strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			queries = append(queries, strings.Join(lines, "\n"))
		}
	}
	require.GreaterOrEqual(t, len(queries), 20)
	store := Open(filepath.Join("testdata", "store"))
	kusto := kustoErrors(t, queries)
	refused := 0
	for i, q := range queries {
		err := store.Query(q, fixtureNow, Span{}, func(*kql.Result) error { return nil })
		theirs := len(kusto[i]) > 0
		if theirs {
			refused++
		}
		if theirs {
			assert.Error(t, err, "Kusto.Language refuses it (%v); the engine answered:\n%s", kusto[i], q)
		} else {
			assert.NoError(t, err, "Kusto.Language takes it; the engine refused:\n%s", q)
		}
		if err != nil {
			assert.Regexp(t, `^line \d+, column \d+: `, err.Error(), "the error says where")
		}
	}
	assert.Greater(t, refused, len(queries)/2, "the list is of invalid queries")
}

// The fixture store is storegen's, byte for byte: it can be made again.
func TestFixtureStoreIsStoregens(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, storegen.Write(&b, storegen.Options{Now: fixtureNow, Days: 10, Runs: 8, Traces: 200, Seed: 1}))
	committed, err := os.ReadFile(filepath.Join("testdata", "store", EnvelopesFile))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(committed, b.Bytes()), "testdata/store differs from storegen's: go run ./query/storegen/cmd -out query/testdata/store -traces 200 -runs 8 -days 10 -now 2026-12-01T12:00:00Z")
}
