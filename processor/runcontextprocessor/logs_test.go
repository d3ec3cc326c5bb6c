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
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// Run `go test -run TestLogsGolden -update` to rewrite the expected files,
// then read the diff: it is the behaviour change.
var update = flag.Bool("update", false, "rewrite the expected golden files")

// goldenCase runs one named configuration of testdata/config.yaml over one
// input file of testdata/logs and compares with <case>_expected.yaml.
type goldenCase struct {
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
	{config: "", input: "cicd"},
	{config: "overwrite", input: "cicd"},
	{config: "no_severity", input: "cicd"},
	{config: "keep", input: "cicd"},
	{config: "drop", input: "cicd"},
	{config: "fill", input: "cicd"},
	{config: "record_sources", input: "record_sources"},
	{config: "metadata", input: "metadata", metadata: map[string][]string{
		"x-parent-run-id": {"", "run-from-header"},
		"X-Step-Id":       {"step-from-header"},
	}},
	{config: "fixed_values", input: "fixed_values"},
	{config: "templates", input: "templates"},
	{config: "code_location", input: "code_location"},
	// Precedence: the telemetry's own values, then explicit dimensions,
	// then what the telemetry reports, then the environment...
	{config: "", input: "precedence", env: azureMLJob},
	{config: "explicit_over_detectors", input: "precedence", env: azureMLJob},
	// ...unless the environment is authoritative.
	{config: "environment_authoritative", input: "precedence", env: azureMLJob},
}

func (c goldenCase) name() string {
	name := c.config
	if name == "" {
		name = "defaults"
	}
	if c.env != nil {
		name += "_azureml"
	}
	return name + "_" + c.input
}

func TestLogsGolden(t *testing.T) {
	runGolden(t, "logs", logsGoldenCases, golden.ReadLogs, golden.WriteLogs,
		func(ctx context.Context, cfg *Config, in plog.Logs) plog.Logs {
			sink := new(consumertest.LogsSink)
			p, err := NewFactory().CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, sink)
			require.NoError(t, err)
			require.NoError(t, p.ConsumeLogs(ctx, in))
			require.NoError(t, p.Shutdown(ctx))
			require.Len(t, sink.AllLogs(), 1)
			return sink.AllLogs()[0]
		},
		func(want, got plog.Logs) error { return plogtest.CompareLogs(want, got) })
}

// runGolden runs each case's configuration over testdata/<dir>/<input>_input.yaml
// and compares the result with testdata/<dir>/<case>_expected.yaml.
func runGolden[T any](
	t *testing.T, dir string, cases []goldenCase,
	read func(string) (T, error),
	write func(testing.TB, string, T) error,
	process func(context.Context, *Config, T) T,
	compare func(want, got T) error,
) {
	for _, tc := range cases {
		t.Run(tc.name(), func(t *testing.T) {
			cfg, err := loadConfig(t, tc.config)
			require.NoError(t, err)
			if tc.env != nil {
				osGetenv = environment(tc.env)
				t.Cleanup(func() { osGetenv = emptyEnvironment })
			}
			input, err := read(filepath.Join("testdata", dir, tc.input+"_input.yaml"))
			require.NoError(t, err)
			ctx := client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(tc.metadata)})
			actual := process(ctx, cfg, input)

			expectedFile := filepath.Join("testdata", dir, tc.name()+"_expected.yaml")
			if *update {
				require.NoError(t, write(t, expectedFile, actual))
			}
			expected, err := read(expectedFile)
			require.NoError(t, err)
			require.NoError(t, compare(expected, actual))
		})
	}
}
