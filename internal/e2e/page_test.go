// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageShots is where the page test keeps its screenshots, as test
// artifacts (.build is not committed).
var pageShots = filepath.Join(repoRoot, ".build", "artifacts", "page")

// The query page, in Debian's chromium driven by playwright-core, over
// what the example step sent to make run's collector: the seed's count
// as a preset, one run's lines, a time chart and a bar chart, a wrong
// query's error, the runs view down to one step's lines, and a request
// from another site's page, which the API refuses.
func TestQueryPageInChromium(t *testing.T) {
	modules := filepath.Join(repoRoot, ".build", "node", "node_modules")
	_, err := os.Stat(filepath.Join(modules, "playwright-core"))
	require.NoError(t, err, "playwright-core is not installed: run scripts/node-env.sh (make test does)")
	chromium, err := exec.LookPath("chromium")
	require.NoError(t, err, "Debian's chromium is not installed (make test installs it)")

	ingestAddr := freeAddr(t)
	c, _ := localCollector(t, "RUNCONTEXT_INGESTION_ENDPOINT="+ingestAddr)
	runStep(t, c, "http/protobuf", trainingRun)

	// Another site: a page, and a proxy that hands its requests to the
	// API as the browser sent them, noting the API's answer.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><title>another site</title>"))
	}))
	defer other.Close()
	api, err := url.Parse("http://" + ingestAddr)
	require.NoError(t, err)
	var mu sync.Mutex
	var crossSite []int
	proxy := httputil.NewSingleHostReverseProxy(api)
	proxy.ModifyResponse = func(r *http.Response) error {
		mu.Lock()
		crossSite = append(crossSite, r.StatusCode)
		mu.Unlock()
		return nil
	}
	otherAPI := httptest.NewServer(proxy)
	defer otherAPI.Close()

	require.NoError(t, os.RemoveAll(pageShots))
	require.NoError(t, os.MkdirAll(pageShots, 0o755))
	cmd := exec.Command("node", filepath.Join(repoRoot, "internal", "tools", "node", "page-check.js"),
		"http://"+ingestAddr, pageShots, trainingRun.parentRunID, trainingRun.stepID,
		strings.Replace(other.URL, "127.0.0.1", "localhost", 1), otherAPI.URL)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "CHROMIUM="+chromium)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	require.NoError(t, err, "page-check.js: %s", stderr.String())
	var page struct {
		Presets                []string
		CountHeader, RunHeader []string
		CountRows, RunRows     [][]string
		Chart                  struct {
			Kind           string
			Series, Points int
		}
		Bars struct {
			Kind string
			Bars int
		}
		Error                                struct{ Text, Class string }
		RunsHeader, StepsHeader, LinesHeader []string
		Runs, Steps, Lines                   [][]string
		Crumbs                               string
		CrossSite                            string
		Problems                             []string
	}
	require.NoError(t, json.Unmarshal(raw, &page), "%s", raw)

	assert.Equal(t, []string{"One run", "Training, last week", "Errors, last week", "Errors counted", "Errors per day"}, page.Presets)
	// The seed's count: the example step logged one ERROR line.
	assert.Equal(t, []string{"count_"}, page.CountHeader)
	assert.Equal(t, [][]string{{"1"}}, page.CountRows)
	// The seed's run: its three lines, with their Level.
	messages := column(t, page.RunHeader, page.RunRows, "message")
	assert.ElementsMatch(t, []string{"loading training data", "validation loss increased", "could not write checkpoint"}, messages)
	assert.Equal(t, "timechart", page.Chart.Kind)
	assert.Equal(t, 1, page.Chart.Series)
	assert.GreaterOrEqual(t, page.Chart.Points, 1)
	assert.Equal(t, "barchart", page.Bars.Kind)
	assert.Equal(t, 3, page.Bars.Bars, "INFO, WARNING, ERROR")
	assert.Equal(t, "error", page.Error.Class)
	assert.Contains(t, page.Error.Text, `line 1, column 16: unknown column or name "Level"`)

	// Runs: the seed's run, with its step and its counts per Level.
	assert.Contains(t, column(t, page.RunsHeader, page.Runs, "run"), trainingRun.parentRunID)
	assert.Equal(t, []string{trainingRun.stepID}, column(t, page.StepsHeader, page.Steps, "step"))
	assert.Equal(t, []string{"2"}, column(t, page.StepsHeader, page.Steps, "ERROR"), "a line and an exception")
	assert.Equal(t, []string{"1"}, column(t, page.StepsHeader, page.Steps, "exceptions"))
	lines := column(t, page.LinesHeader, page.Lines, "message")
	assert.Len(t, lines, 4)
	assert.Contains(t, lines, "could not write checkpoint")
	assert.Contains(t, strings.Join(lines, "\n"), "training diverged: loss is NaN")
	assert.Contains(t, page.Crumbs, trainingRun.parentRunID)

	// Another site's request reached the API, and the API refused it.
	assert.Contains(t, page.CrossSite, "blocked")
	mu.Lock()
	assert.Equal(t, []int{http.StatusForbidden}, crossSite)
	mu.Unlock()
	assert.Empty(t, page.Problems, "errors in the page's console")

	for _, shot := range []string{"query-count", "query-run", "query-timechart", "query-barchart", "query-error", "runs", "run", "step"} {
		info, err := os.Stat(filepath.Join(pageShots, shot+".png"))
		if assert.NoError(t, err, shot) {
			assert.Greater(t, info.Size(), int64(5000), "%s.png is a screenshot", shot)
		}
	}
}

// column is one column of a table the page showed.
func column(t *testing.T, header []string, rows [][]string, name string) []string {
	t.Helper()
	for i, h := range header {
		if h == name {
			var out []string
			for _, r := range rows {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return nil
}
