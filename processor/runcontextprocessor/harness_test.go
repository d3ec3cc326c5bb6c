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
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// testFactory returns the factory with env as the collector's environment.
// Tests must not depend on the machine they run on: a CI job's own
// variables (GITHUB_RUN_ID, BUILD_BUILDID, ...) would feed the environment
// detectors. Each test has its own factory, so tests run in parallel.
func testFactory(env map[string]string) processor.Factory {
	return newFactory(func(name string) string { return env[name] })
}

// pipeline makes a processor of one signal, from a factory and a
// configuration, that passes what it lets through to a sink.
type pipeline[T any] func(f processor.Factory, set processor.Settings, cfg *Config) (
	p component.Component, consume func(context.Context, T) error, out func() []T, err error)

func logsPipeline(f processor.Factory, set processor.Settings, cfg *Config) (component.Component, func(context.Context, plog.Logs) error, func() []plog.Logs, error) {
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), set, cfg, sink)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, p.ConsumeLogs, sink.AllLogs, nil
}

func tracesPipeline(f processor.Factory, set processor.Settings, cfg *Config) (component.Component, func(context.Context, ptrace.Traces) error, func() []ptrace.Traces, error) {
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), set, cfg, sink)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, p.ConsumeTraces, sink.AllTraces, nil
}

func metricsPipeline(f processor.Factory, set processor.Settings, cfg *Config) (component.Component, func(context.Context, pmetric.Metrics) error, func() []pmetric.Metrics, error) {
	sink := new(consumertest.MetricsSink)
	p, err := f.CreateMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, p.ConsumeMetrics, sink.AllMetrics, nil
}

// started makes a processor with make and starts it; it is shut down when
// the test ends. It returns the processor's consume and what reached the
// sink so far.
func started[T any](t testing.TB, make pipeline[T], f processor.Factory, set processor.Settings, cfg *Config) (func(context.Context, T) error, func() []T) {
	t.Helper()
	p, consume, out, err := make(f, set, cfg)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
	return consume, out
}

// processOnce passes one batch through a processor made from cfg, with env
// as the collector's environment, and returns what reached the next
// consumer: nothing when the whole batch was dropped.
func processOnce[T any](t testing.TB, make pipeline[T], ctx context.Context, env map[string]string, cfg *Config, in T) []T {
	t.Helper()
	p, consume, out, err := make(testFactory(env), processortest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, consume(ctx, in))
	require.NoError(t, p.Shutdown(ctx))
	return out()
}
