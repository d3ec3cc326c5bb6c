// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/runcontextbench"
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
			p, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			require.NoError(b, err)
			runcontextbench.Run(b, runcontextbench.NewSupply(b, runcontextbench.Logs(bc.extraAttrs),
				(&plog.ProtoMarshaler{}).MarshalLogs, (&plog.ProtoUnmarshaler{}).UnmarshalLogs), p.ConsumeLogs)
		})
	}
}

func BenchmarkTraces(b *testing.B) {
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), defaultConfig(), consumertest.NewNop())
	require.NoError(b, err)
	runcontextbench.Run(b, runcontextbench.NewSupply(b, runcontextbench.Traces(),
		(&ptrace.ProtoMarshaler{}).MarshalTraces, (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces), p.ConsumeTraces)
}

func BenchmarkMetrics(b *testing.B) {
	p, err := NewFactory().CreateMetrics(context.Background(), processortest.NewNopSettings(metadata.Type), defaultConfig(), consumertest.NewNop())
	require.NoError(b, err)
	runcontextbench.Run(b, runcontextbench.NewSupply(b, runcontextbench.Metrics(),
		(&pmetric.ProtoMarshaler{}).MarshalMetrics, (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics), p.ConsumeMetrics)
}
