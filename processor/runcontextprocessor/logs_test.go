// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Run `go test -run TestLogsGolden -update` to rewrite the expected files,
// then read the diff: it is the behaviour change.
var update = flag.Bool("update", false, "rewrite the expected golden files")

// goldenCase runs one named configuration of testdata/config.yaml over one
// input file of testdata/<signal> and compares with <name>_expected.yaml.
type goldenCase struct {
	// name says what the case shows; it names the expected file.
	name     string
	config   string
	input    string
	metadata map[string][]string
	// env is the collector's environment, for the environment detectors.
	env map[string]string
}

// azureMLJob is the environment of a step inside an Azure ML pipeline job.
var azureMLJob = map[string]string{
	"AZUREML_RUN_ID":             "aml-step",
	"AZUREML_ROOT_RUN_ID":        "aml-root",
	"AZUREML_ARM_PROJECT_NAME":   "aml-experiment",
	"AZUREML_ARM_SUBSCRIPTION":   "sub",
	"AZUREML_ARM_RESOURCEGROUP":  "rg",
	"AZUREML_ARM_WORKSPACE_NAME": "ws",
	"AZUREML_RUN_TOKEN":          "never-read-token",
}

var logsGoldenCases = []goldenCase{
	{name: "defaults", config: "", input: "cicd"},
	{name: "overwrite", config: "overwrite", input: "cicd"},
	{name: "no_severity", config: "no_severity", input: "cicd"},
	{name: "missing_keep", config: "keep", input: "cicd"},
	{name: "missing_drop", config: "drop", input: "cicd"},
	{name: "missing_fill", config: "fill", input: "cicd"},
	{name: "record_sources", config: "record_sources", input: "record_sources"},
	{name: "metadata", config: "metadata", input: "metadata", metadata: map[string][]string{
		"x-parent-run-id": {"", "run-from-header"},
		"X-Step-Id":       {"step-from-header"},
	}},
	{name: "fixed_values", config: "fixed_values", input: "fixed_values"},
	{name: "templates", config: "templates", input: "templates"},
	{name: "code_location", config: "code_location", input: "code_location"},
	// Precedence: the telemetry's own values, then explicit dimensions,
	// then what the telemetry reports, then the environment...
	{name: "precedence_telemetry_over_environment", config: "", input: "precedence", env: azureMLJob},
	{name: "precedence_explicit_over_detectors", config: "explicit_over_detectors", input: "precedence", env: azureMLJob},
	// ...unless the environment is authoritative.
	{name: "precedence_environment_authoritative", config: "environment_authoritative", input: "precedence", env: azureMLJob},
	// An excluded dimension is not written, but a template over it sees
	// the telemetry's own value, as on the other signals.
	{name: "exclude_keeps_templates", config: "logs_exclude_in_template", input: "templates"},
}

func TestLogsGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "logs", logsGoldenCases, golden.ReadLogs, golden.WriteLogs, logsPipeline,
		func(want, got plog.Logs) error { return plogtest.CompareLogs(want, got) })
}

// runGolden runs each case's configuration over testdata/<dir>/<input>_input.yaml
// and compares the result with testdata/<dir>/<case>_expected.yaml.
func runGolden[T any](
	t *testing.T, dir string, cases []goldenCase,
	read func(string) (T, error),
	write func(testing.TB, string, T) error,
	make pipeline[T],
	compare func(want, got T) error,
) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := loadConfig(t, tc.config)
			require.NoError(t, err)
			input, err := read(filepath.Join("testdata", dir, tc.input+"_input.yaml"))
			require.NoError(t, err)
			ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(tc.metadata)})
			out := processOnce(t, make, ctx, tc.env, cfg, input)
			require.Len(t, out, 1)
			actual := out[0]

			expectedFile := filepath.Join("testdata", dir, tc.name+"_expected.yaml")
			if *update {
				require.NoError(t, write(t, expectedFile, actual))
			}
			expected, err := read(expectedFile)
			require.NoError(t, err)
			require.NoError(t, compare(expected, actual))
		})
	}
}
