// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The ARM templates of deploy/azure, decoded strictly: a property the
// documented schema does not have fails, as the deployment would.

type armTemplate struct {
	Schema         string                  `json:"$schema"`
	ContentVersion string                  `json:"contentVersion"`
	Parameters     map[string]armParameter `json:"parameters"`
	Variables      map[string]any          `json:"variables"`
	Resources      []json.RawMessage       `json:"resources"`
}

type armParameter struct {
	Type         string `json:"type"`
	DefaultValue any    `json:"defaultValue"`
	Metadata     struct {
		Description string `json:"description"`
	} `json:"metadata"`
}

// armResource is what every resource of a template says of itself.
type armResource struct {
	Type       string `json:"type"`
	APIVersion string `json:"apiVersion"`
	Name       string `json:"name"`
	Location   string `json:"location"`
	Kind       string `json:"kind"`
}

// scheduledQueryRule is Microsoft.Insights/scheduledQueryRules, API
// 2023-12-01, as its reference documents it (the properties used).
type scheduledQueryRule struct {
	armResource
	Properties struct {
		DisplayName         string `json:"displayName"`
		Description         string `json:"description"`
		Severity            int    `json:"severity"`
		Enabled             bool   `json:"enabled"`
		EvaluationFrequency string `json:"evaluationFrequency"`
		WindowSize          string `json:"windowSize"`
		Scopes              any    `json:"scopes"`
		Criteria            struct {
			AllOf []struct {
				Query               string `json:"query"`
				TimeAggregation     string `json:"timeAggregation"`
				MetricMeasureColumn string `json:"metricMeasureColumn"`
				Dimensions          []struct {
					Name     string   `json:"name"`
					Operator string   `json:"operator"`
					Values   []string `json:"values"`
				} `json:"dimensions"`
				Operator       string `json:"operator"`
				Threshold      any    `json:"threshold"`
				FailingPeriods struct {
					NumberOfEvaluationPeriods int `json:"numberOfEvaluationPeriods"`
					MinFailingPeriodsToAlert  int `json:"minFailingPeriodsToAlert"`
				} `json:"failingPeriods"`
			} `json:"allOf"`
		} `json:"criteria"`
		AutoMitigate bool `json:"autoMitigate"`
		Actions      any  `json:"actions"`
	} `json:"properties"`
}

// workbook is Microsoft.Insights/workbooks, API 2023-06-01.
type workbook struct {
	armResource
	Properties struct {
		DisplayName    string `json:"displayName"`
		Category       string `json:"category"`
		Version        string `json:"version"`
		SourceID       string `json:"sourceId"`
		SerializedData string `json:"serializedData"`
	} `json:"properties"`
}

// notebook is a workbook's serializedData ("Notebook/1.0").
type notebook struct {
	Version             string   `json:"version"`
	Schema              string   `json:"$schema"`
	FallbackResourceIDs []string `json:"fallbackResourceIds"`
	Items               []struct {
		Type                  int    `json:"type"`
		Name                  string `json:"name"`
		ConditionalVisibility *struct {
			ParameterName string `json:"parameterName"`
			Comparison    string `json:"comparison"`
			Value         string `json:"value"`
		} `json:"conditionalVisibility"`
		Content json.RawMessage `json:"content"`
	} `json:"items"`
}

type kqlItem struct {
	Version                  string `json:"version"`
	Title                    string `json:"title"`
	Size                     int    `json:"size"`
	QueryType                int    `json:"queryType"`
	ResourceType             string `json:"resourceType"`
	TimeContextFromParameter string `json:"timeContextFromParameter"`
	Query                    string `json:"query"`
	ExportFieldName          string `json:"exportFieldName"`
	ExportParameterName      string `json:"exportParameterName"`
	ExportDefaultValue       string `json:"exportDefaultValue"`
	Visualization            string `json:"visualization"`
}

func strictJSON(t *testing.T, raw []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(into), "%s", raw)
}

// armValue evaluates the template expressions the templates use:
// [parameters('x')], [variables('x')] and [format('...{0}...', ...)];
// any other expression fails the test, so that none goes untested.
func armValue(t *testing.T, tpl *armTemplate, params map[string]any, v any) any {
	t.Helper()
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = armValue(t, tpl, params, e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = armValue(t, tpl, params, e)
		}
		return out
	}
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return v
	}
	expr := s[1 : len(s)-1]
	ref := regexp.MustCompile(`^(parameters|variables)\('([A-Za-z]+)'\)$`)
	if m := ref.FindStringSubmatch(expr); m != nil {
		if m[1] == "variables" {
			require.Contains(t, tpl.Variables, m[2])
			return armValue(t, tpl, params, tpl.Variables[m[2]])
		}
		if p, ok := params[m[2]]; ok {
			return p
		}
		require.Contains(t, tpl.Parameters, m[2])
		return armValue(t, tpl, params, tpl.Parameters[m[2]].DefaultValue)
	}
	if m := regexp.MustCompile(`^format\('((?:[^']|'')*)', (parameters\('[A-Za-z]+'\))\)$`).FindStringSubmatch(expr); m != nil {
		return strings.ReplaceAll(strings.ReplaceAll(m[1], "''", "'"), "{0}", fmt.Sprint(armValue(t, tpl, params, "["+m[2]+"]")))
	}
	switch expr {
	case "resourceGroup().location", "newGuid()":
		return "evaluated-by-azure"
	}
	t.Fatalf("a template expression the test does not evaluate: %s", s)
	return nil
}

var buildQueryCLI = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "runcontext-query")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "runcontext-query")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/runcontext-query")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	return bin, nil
})

// fixtureStore is a copy of the query engine's fixture store (storegen:
// 8 runs from 2026-11-21 to 2026-11-30, two of them with a failed train
// step).
func fixtureStore(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "extension", "appinsightsingestionextension", "query", "testdata", "store", "envelopes.jsonl"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "envelopes.jsonl"), raw, 0o600))
	return dir
}

// queryRows runs a query with runcontext-query over the store within a
// window (ISO 8601 start/duration), and returns its rows by column name.
func queryRows(t *testing.T, store, window, query string) []map[string]any {
	t.Helper()
	bin, err := buildQueryCLI()
	require.NoError(t, err)
	args := []string{"--data", store, "--output", "json"}
	if window != "" {
		args = append(args, "--timespan", window)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, query)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s\n%s", query, stderr.String())
	var body struct {
		Tables []struct {
			Columns []struct{ Name string }
			Rows    [][]any
		}
	}
	require.NoError(t, json.Unmarshal(out, &body))
	require.Len(t, body.Tables, 1)
	var rows []map[string]any
	for _, r := range body.Tables[0].Rows {
		row := map[string]any{}
		for i, c := range body.Tables[0].Columns {
			row[c.Name] = r[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// fires evaluates a log alert rule as Azure Monitor does for Count: the
// query's rows in the window, counted per combination of the dimensions,
// compared with the threshold; it returns the combinations that fire.
func fires(t *testing.T, rows []map[string]any, dimensions []string, operator string, threshold float64) []string {
	t.Helper()
	counts := map[string]float64{}
	if len(dimensions) == 0 {
		counts[""] = float64(len(rows))
	}
	for _, r := range rows {
		var key []string
		for _, d := range dimensions {
			key = append(key, fmt.Sprint(r[d]))
		}
		counts[strings.Join(key, "/")]++
	}
	var out []string
	for k, n := range counts {
		switch operator {
		case "GreaterThan":
			if n > threshold {
				out = append(out, k)
			}
		case "LessThan":
			if n < threshold {
				out = append(out, k)
			}
		default:
			t.Fatalf("operator %s: not evaluated here", operator)
		}
	}
	sort.Strings(out)
	return out
}

func readTemplate(t *testing.T, name string) *armTemplate {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("azure", name))
	require.NoError(t, err)
	var tpl armTemplate
	strictJSON(t, raw, &tpl)
	assert.Equal(t, "1.0.0.0", tpl.ContentVersion)
	for name, p := range tpl.Parameters {
		assert.NotEmpty(t, p.Metadata.Description, "parameter %s says what it is", name)
	}
	return &tpl
}

const resourceID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ml/providers/Microsoft.Insights/components/pipelines"

// The log alert rules: valid against the documented properties, following
// Microsoft's guidance for log alerts (no take; the rule counts, the query
// does not), and firing on the fixture store exactly as expected.
func TestAlertRules(t *testing.T) {
	tpl := readTemplate(t, "alerts.json")
	store := fixtureStore(t)
	params := map[string]any{"appInsightsResourceId": resourceID, "errorThreshold": 3.0}
	rules := map[string]scheduledQueryRule{}
	for _, raw := range tpl.Resources {
		var r scheduledQueryRule
		strictJSON(t, raw, &r)
		assert.Equal(t, "Microsoft.Insights/scheduledQueryRules", r.Type)
		assert.Equal(t, "2023-12-01", r.APIVersion)
		assert.Equal(t, "LogAlert", r.Kind)
		p := r.Properties
		assert.Equal(t, []any{resourceID}, armValue(t, tpl, params, p.Scopes))
		assert.NotNil(t, armValue(t, tpl, params, p.Actions))
		for _, d := range []string{p.EvaluationFrequency, armValue(t, tpl, params, p.WindowSize).(string)} {
			assert.Regexp(t, `^P(T\d+[HM]|\d+D)$`, d)
		}
		require.Len(t, p.Criteria.AllOf, 1)
		c := p.Criteria.AllOf[0]
		query := armValue(t, tpl, params, c.Query).(string)
		assert.NotRegexp(t, `\|\s*(take|limit)\b`, query, "%s: an alert query takes every row", r.Name)
		if c.TimeAggregation == "Count" {
			assert.NotRegexp(t, `\|\s*(count|summarize\s+count\(\))\s*$`, query, "%s: the rule counts, not the query", r.Name)
			assert.Empty(t, c.MetricMeasureColumn)
		}
		assert.Contains(t, []string{"GreaterThan", "LessThan", "GreaterThanOrEqual", "LessThanOrEqual", "Equals"}, c.Operator)
		assert.LessOrEqual(t, c.FailingPeriods.MinFailingPeriodsToAlert, c.FailingPeriods.NumberOfEvaluationPeriods)
		r.Properties.Criteria.AllOf[0].Query = query
		rules[r.Name] = r
	}
	require.Len(t, rules, 3)

	evaluate := func(name, window string) []string {
		r := rules[name]
		c := r.Properties.Criteria.AllOf[0]
		var dims []string
		for _, d := range c.Dimensions {
			assert.Equal(t, "Include", d.Operator)
			dims = append(dims, d.Name)
		}
		threshold, ok := armValue(t, tpl, params, c.Threshold).(float64)
		require.True(t, ok, "%s: threshold %v", name, c.Threshold)
		return fires(t, queryRows(t, store, window, c.Query), dims, c.Operator, threshold)
	}
	// The fixture's runs, from 2026-11-21 to 2026-11-30; every window
	// below is one the rule could evaluate.
	all := "2026-11-20T00:00:00Z/2026-12-02T00:00:00Z"
	assert.Equal(t, []string{
		"26b0f2f5-3720-11ea-b247-c49deda80003/train/failure",
		"a811a840-3720-11ea-b247-c49deda80007/train/failure",
	}, evaluate("runcontext-failed-step", all), "each failed step, once")
	assert.Empty(t, evaluate("runcontext-failed-step", "2026-11-29T00:00:00Z/PT1H"), "a window of successful steps")
	// Four errors each (jq over the store agrees); the others have 1 or 2.
	assert.Equal(t, []string{
		"07df1bd4-3720-11ea-b247-c49deda80001/score-pipeline",
		"a4f92433-3720-11ea-b247-c49deda80006/train-pipeline",
		"a811a840-3720-11ea-b247-c49deda80007/score-pipeline",
		"e9f053f6-3720-11ea-b247-c49deda80004/train-pipeline",
	}, evaluate("runcontext-errors-in-a-run", all), "runs with more than errorThreshold (3) errors")
	assert.Equal(t, []string{""}, evaluate("runcontext-pipeline-silent", "2026-11-30T00:00:00Z/PT6H"), "train-pipeline ran no step then")
	assert.Empty(t, evaluate("runcontext-pipeline-silent", "2026-11-29T00:00:00Z/PT6H"), "train-pipeline's run 6 was logging")
}

// The workbook: valid against the documented properties, with a notebook
// of the seed's queries and the runs drill-down, each query running on
// the fixture store with its parameters as the portal fills them.
func TestWorkbook(t *testing.T) {
	tpl := readTemplate(t, "workbook.json")
	require.Len(t, tpl.Resources, 1)
	var wb workbook
	strictJSON(t, tpl.Resources[0], &wb)
	params := map[string]any{"appInsightsResourceId": resourceID}
	assert.Equal(t, "Microsoft.Insights/workbooks", wb.Type)
	assert.Equal(t, "2023-06-01", wb.APIVersion)
	assert.Equal(t, "shared", wb.Kind)
	assert.Equal(t, "Notebook/1.0", wb.Properties.Version)
	assert.Equal(t, resourceID, armValue(t, tpl, params, wb.Properties.SourceID))
	var nb notebook
	strictJSON(t, []byte(wb.Properties.SerializedData), &nb)
	assert.Equal(t, "Notebook/1.0", nb.Version)

	store := fixtureStore(t)
	fill := strings.NewReplacer("{RunId}", "26b0f2f5-3720-11ea-b247-c49deda80003", "{StepId}", "26b0f2f5-train")
	results := map[string][]map[string]any{}
	exported := map[string]bool{}
	for _, item := range nb.Items {
		if item.Type != 3 {
			continue
		}
		var q kqlItem
		strictJSON(t, item.Content, &q)
		assert.Equal(t, "KqlItem/1.0", q.Version)
		assert.Equal(t, "microsoft.insights/components", q.ResourceType)
		if q.ExportParameterName != "" {
			exported[q.ExportParameterName] = true
		}
		if item.ConditionalVisibility != nil {
			assert.True(t, exported[item.ConditionalVisibility.ParameterName], "%s shows once a table above sets %s", item.Name, item.ConditionalVisibility.ParameterName)
		}
		results[item.Name] = queryRows(t, store, "", fill.Replace(q.Query))
	}
	for _, seed := range []string{
		"traces | where customDimensions.parent_run_id == '{RunId}'",
		"traces | where timestamp > ago(7d) and customDimensions.run_type == 'training'",
		"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR'",
		"traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR' | summarize count()",
	} {
		assert.Contains(t, wb.Properties.SerializedData, strings.ReplaceAll(seed, "'", `'`), "the seed's query, verbatim")
	}
	require.Len(t, results["runs"], 8, "the fixture's 8 runs")
	steps := results["steps"]
	require.Len(t, steps, 3)
	failed := map[string]float64{}
	for _, s := range steps {
		failed[s["name"].(string)] = s["failed"].(float64)
	}
	assert.Equal(t, map[string]float64{"prep": 0, "train": 1, "score": 0}, failed)
	lines := results["lines"]
	require.NotEmpty(t, lines)
	last := lines[len(lines)-1]
	assert.Equal(t, "exception", last["itemType"])
	assert.Equal(t, "ValueError: training diverged: loss is NaN", last["message"])
	assert.Len(t, results["seed-run"], 24, "the run's lines")
}

// examples/azureml/queries.kql: the classic-resource queries run as
// written (with a run id for the placeholder); the workspace-based forms
// name tables that exist only in a Log Analytics workspace.
func TestAzureMLQueriesRun(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "examples", "azureml", "queries.kql"))
	require.NoError(t, err)
	store := fixtureStore(t)
	ran := 0
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") || strings.Contains(line, "App") {
			continue
		}
		q := strings.ReplaceAll(line, "<parent run id>", "26b0f2f5-3720-11ea-b247-c49deda80003")
		rows := queryRows(t, store, "", q)
		if strings.HasPrefix(q, "union traces, exceptions | where customDimensions.parent_run_id") {
			assert.Len(t, rows, 25, "the run's 24 lines and its exception")
		}
		ran++
	}
	assert.Equal(t, 4, ran)
}
