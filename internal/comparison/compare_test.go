// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package comparison measures the runcontext processor against what users
// would otherwise configure by hand, in one process on the same batches:
// contrib's transform processor (OTTL) and attributes processor, both
// v0.161.0. It is its own module so that the processor's go.mod stays lean.
// scripts/bench-compare.sh runs it and prints the ratios.
package comparison

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/attributesprocessor"
	"github.com/open-telemetry/opentelemetry-collector-contrib/processor/transformprocessor"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/benchtest"
)

// The same 8 dimensions and Level, configured as a user would for each
// processor.
const (
	runcontextConfig = `
dimensions:
  run_type:
    value: training
  build_url:
    template: "https://github.com/org/repo/commit/{build_version}"
`

	// The transform processor in the log context: what the OTTL docs lead
	// a user to write. Every statement runs for every record.
	transformLogContextConfig = `
error_mode: ignore
log_statements:
  - context: log
    statements:
      - set(attributes["parent_run_id"], resource.attributes["cicd.pipeline.run.id"])
      - set(attributes["step_id"], resource.attributes["cicd.pipeline.task.run.id"])
      - set(attributes["step_name"], resource.attributes["cicd.pipeline.task.name"])
      - set(attributes["experiment_name"], resource.attributes["cicd.pipeline.name"])
      - set(attributes["build_version"], resource.attributes["vcs.ref.head.revision"])
      - set(attributes["run_url"], Concat(["https://ml.azure.com/runs/", resource.attributes["cicd.pipeline.run.id"]], ""))
      - set(attributes["build_url"], Concat(["https://github.com/org/repo/commit/", resource.attributes["vcs.ref.head.revision"]], ""))
      - set(attributes["run_type"], "training")
      - set(attributes["Level"], "DEBUG") where severity_number >= SEVERITY_NUMBER_TRACE and severity_number <= SEVERITY_NUMBER_DEBUG4
      - set(attributes["Level"], "INFO") where severity_number >= SEVERITY_NUMBER_INFO and severity_number <= SEVERITY_NUMBER_INFO4
      - set(attributes["Level"], "WARNING") where severity_number >= SEVERITY_NUMBER_WARN and severity_number <= SEVERITY_NUMBER_WARN4
      - set(attributes["Level"], "ERROR") where severity_number >= SEVERITY_NUMBER_ERROR and severity_number <= SEVERITY_NUMBER_ERROR4
      - set(attributes["Level"], "CRITICAL") where severity_number >= SEVERITY_NUMBER_FATAL
`

	// The transform processor as an expert writes it: the run context once
	// per resource, only Level per record.
	transformResourceContextConfig = `
error_mode: ignore
log_statements:
  - context: resource
    statements:
      - set(attributes["parent_run_id"], attributes["cicd.pipeline.run.id"])
      - set(attributes["step_id"], attributes["cicd.pipeline.task.run.id"])
      - set(attributes["step_name"], attributes["cicd.pipeline.task.name"])
      - set(attributes["experiment_name"], attributes["cicd.pipeline.name"])
      - set(attributes["build_version"], attributes["vcs.ref.head.revision"])
      - set(attributes["run_url"], Concat(["https://ml.azure.com/runs/", attributes["cicd.pipeline.run.id"]], ""))
      - set(attributes["build_url"], Concat(["https://github.com/org/repo/commit/", attributes["vcs.ref.head.revision"]], ""))
      - set(attributes["run_type"], "training")
  - context: log
    statements:
      - set(attributes["Level"], "DEBUG") where severity_number >= SEVERITY_NUMBER_TRACE and severity_number <= SEVERITY_NUMBER_DEBUG4
      - set(attributes["Level"], "INFO") where severity_number >= SEVERITY_NUMBER_INFO and severity_number <= SEVERITY_NUMBER_INFO4
      - set(attributes["Level"], "WARNING") where severity_number >= SEVERITY_NUMBER_WARN and severity_number <= SEVERITY_NUMBER_WARN4
      - set(attributes["Level"], "ERROR") where severity_number >= SEVERITY_NUMBER_ERROR and severity_number <= SEVERITY_NUMBER_ERROR4
      - set(attributes["Level"], "CRITICAL") where severity_number >= SEVERITY_NUMBER_FATAL
`

	// The attributes processor cannot read resource attributes, so it can
	// only insert fixed values: what a sidecar that knows its run at start
	// could do. It cannot derive Level from the severity at all.
	attributesConfig = `
actions:
  - {key: parent_run_id, value: 931024c2-3720-11ea-b247-c49deda80000, action: insert}
  - {key: step_id, value: step-0, action: insert}
  - {key: step_name, value: prep, action: insert}
  - {key: experiment_name, value: train-pipeline, action: insert}
  - {key: run_url, value: "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda80000", action: insert}
  - {key: run_type, value: training, action: insert}
  - {key: build_url, value: "https://github.com/org/repo/commit/4f3c2a1b", action: insert}
  - {key: build_version, value: 4f3c2a1b, action: insert}
`
)

func newLogsProcessor(tb testing.TB, factory processor.Factory, config string, next consumer.Logs) processor.Logs {
	tb.Helper()
	var raw map[string]any
	require.NoError(tb, yaml.Unmarshal([]byte(config), &raw))
	cfg := factory.CreateDefaultConfig()
	require.NoError(tb, confmap.NewFromStringMap(raw).Unmarshal(cfg))
	require.NoError(tb, confmap.Validate(cfg))
	p, err := factory.CreateLogs(context.Background(), processortest.NewNopSettings(factory.Type()), cfg, next)
	require.NoError(tb, err)
	return p
}

var contenders = []struct {
	name    string
	factory processor.Factory
	config  string
}{
	{"runcontext", runcontextprocessor.NewFactory(), runcontextConfig},
	{"transform_log_context", transformprocessor.NewFactory(), transformLogContextConfig},
	{"transform_resource_context", transformprocessor.NewFactory(), transformResourceContextConfig},
	{"attributes_static_inserts", attributesprocessor.NewFactory(), attributesConfig},
}

// BenchmarkLogs: one operation is one batch of 10 resources × 100 records.
func BenchmarkLogs(b *testing.B) {
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			p := newLogsProcessor(b, c.factory, c.config, consumertest.NewNop())
			require.NoError(b, p.Start(context.Background(), nil))
			defer func() { require.NoError(b, p.Shutdown(context.Background())) }()
			benchtest.Run(b, benchtest.NewSupply(b, benchtest.Logs(0),
				(&plog.ProtoMarshaler{}).MarshalLogs, (&plog.ProtoUnmarshaler{}).UnmarshalLogs), p.ConsumeLogs)
		})
	}
}
