// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

const (
	benchResources          = 10
	benchRecordsPerResource = 100
	benchRecords            = benchResources * benchRecordsPerResource
)

// benchLogs is a batch as a gateway sees it: 10 steps (resources) with their
// run context in CICD resource attributes, 100 log records each with the
// code location attributes an SDK's logging bridge sets, and extra more.
func benchLogs(extraRecordAttributes int) plog.Logs {
	ld := plog.NewLogs()
	now := pcommon.NewTimestampFromTime(time.Now())
	for r := range benchResources {
		rl := ld.ResourceLogs().AppendEmpty()
		ra := rl.Resource().Attributes()
		ra.PutStr("service.name", "train-step")
		ra.PutStr("telemetry.sdk.language", "python")
		ra.PutStr("cicd.pipeline.name", "train-pipeline")
		ra.PutStr("cicd.pipeline.run.id", fmt.Sprintf("931024c2-3720-11ea-b247-c49deda8%04d", r))
		ra.PutStr("cicd.pipeline.run.url.full", fmt.Sprintf("https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda8%04d", r))
		ra.PutStr("cicd.pipeline.task.name", "prep")
		ra.PutStr("cicd.pipeline.task.run.id", fmt.Sprintf("step-%d", r))
		ra.PutStr("vcs.ref.head.revision", "4f3c2a1b")
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("pipelinestep")
		for i := range benchRecordsPerResource {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetTimestamp(now)
			lr.SetSeverityNumber(plog.SeverityNumber(1 + (i%6)*4))
			lr.Body().SetStr("epoch finished, loss decreasing as expected")
			a := lr.Attributes()
			a.PutStr("code.file.path", "/app/steps/train.py")
			a.PutInt("code.line.number", int64(40+i))
			a.PutStr("code.function.name", "train")
			for j := range extraRecordAttributes {
				a.PutInt(fmt.Sprintf("extra.%d", j), int64(j))
			}
		}
	}
	return ld
}

// BenchmarkLogs measures the processor on one 10 × 100 batch per operation
// and reports the cost per record. Compare configurations with benchstat.
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
			batches := newBatchSupply(b, benchLogs(bc.extraAttrs))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := p.ConsumeLogs(ctx, batches.next(b)); err != nil {
					b.Fatal(err)
				}
			}
			reportPerRecord(b, benchRecords)
		})
	}
}

// batchSupply hands out fresh batches, unmarshalled from OTLP protobuf as
// the receiver does (so attribute slices have the capacity they have in a
// real collector), made outside the timer in groups so that stopping the
// timer costs little per operation.
type batchSupply struct {
	payload []byte
	ready   []plog.Logs
}

const batchSupplyGroup = 64

func newBatchSupply(b *testing.B, ld plog.Logs) *batchSupply {
	payload, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(b, err)
	return &batchSupply{payload: payload}
}

func (s *batchSupply) next(b *testing.B) plog.Logs {
	if len(s.ready) == 0 {
		b.StopTimer()
		for range batchSupplyGroup {
			ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(s.payload)
			require.NoError(b, err)
			s.ready = append(s.ready, ld)
		}
		b.StartTimer()
	}
	ld := s.ready[len(s.ready)-1]
	s.ready = s.ready[:len(s.ready)-1]
	return ld
}

// reportPerRecord turns per-operation figures into per-record ones.
func reportPerRecord(b *testing.B, records int) {
	b.Helper()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(records), "ns/record")
}
