// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/benchtest"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// Each benchmark operation processes one batch of 10 resources × 100
// records; ns/record is reported, divide B/op and allocs/op by 1000.

func BenchmarkLogs(b *testing.B) {
	cases := []struct {
		name       string
		extraAttrs int
		config     func(*Config)
	}{
		{"defaults", 0, func(*Config) {}},
		// With 4 attributes the receiver's attribute slice is full, so
		// adding Level grows it: one more allocation per record.
		{"defaults_full_attribute_slice", 1, func(*Config) {}},
		{"no_level", 0, func(cfg *Config) { cfg.SeverityDimension = "" }},
		{"explicit_with_template", 0, func(cfg *Config) {
			cfg.Dimensions = map[string]DimensionConfig{
				"run_type":  {Value: "training"},
				"run_url":   {Template: "https://ml.azure.com/runs/{parent_run_id}?wsid=/subscriptions/s/resourcegroups/r/workspaces/w"},
				"build_url": {Template: "https://github.com/org/repo/commit/{build_version}"},
			}
		}},
		{"record_attribute_source", 0, func(cfg *Config) {
			cfg.Dimensions = map[string]DimensionConfig{"step_name": {From: []string{"attributes.code.function.name"}}}
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			cfg := defaultConfig()
			bc.config(cfg)
			p, err := testFactory(nil).CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			startForBenchmark(b, p, err)
			benchtest.Run(b, benchtest.NewSupply(b, benchtest.Logs(bc.extraAttrs),
				(&plog.ProtoMarshaler{}).MarshalLogs, (&plog.ProtoUnmarshaler{}).UnmarshalLogs), p.ConsumeLogs)
		})
	}
}

func BenchmarkTraces(b *testing.B) {
	p, err := testFactory(nil).CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), defaultConfig(), consumertest.NewNop())
	startForBenchmark(b, p, err)
	benchtest.Run(b, benchtest.NewSupply(b, benchtest.Traces(),
		(&ptrace.ProtoMarshaler{}).MarshalTraces, (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces), p.ConsumeTraces)
}

func BenchmarkMetrics(b *testing.B) {
	p, err := testFactory(nil).CreateMetrics(context.Background(), processortest.NewNopSettings(metadata.Type), defaultConfig(), consumertest.NewNop())
	startForBenchmark(b, p, err)
	benchtest.Run(b, benchtest.NewSupply(b, benchtest.Metrics(),
		(&pmetric.ProtoMarshaler{}).MarshalMetrics, (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics), p.ConsumeMetrics)
}

// startForBenchmark starts a processor that passes to a nop consumer, which
// keeps nothing, and shuts it down when the benchmark ends.
func startForBenchmark(b *testing.B, p component.Component, err error) {
	b.Helper()
	require.NoError(b, err)
	require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, p.Shutdown(context.Background())) })
}
