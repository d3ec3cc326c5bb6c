// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package benchtest is a test helper, like the collector's processortest:
// it makes the batches the runcontext processor is benchmarked on, and the
// timing loop, so that its own benchmarks and the comparisons with other
// processors (internal/comparison) measure exactly the same data: a
// gateway's batch of steps (resources) with their run context in CICD
// resource attributes, and records with the attributes SDKs set. It imports
// testing; nothing but benchmarks may import it.
package benchtest // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/benchtest"

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The batch shape of the project's figures: 10 resources × 100 records.
const (
	Resources          = 10
	RecordsPerResource = 100
	Records            = Resources * RecordsPerResource
)

// putRunContext sets one step's run context as its SDK would.
func putRunContext(attrs pcommon.Map, step int) {
	attrs.PutStr("service.name", "train-step")
	attrs.PutStr("telemetry.sdk.language", "python")
	attrs.PutStr("cicd.pipeline.name", "train-pipeline")
	attrs.PutStr("cicd.pipeline.run.id", fmt.Sprintf("931024c2-3720-11ea-b247-c49deda8%04d", step))
	attrs.PutStr("cicd.pipeline.run.url.full", fmt.Sprintf("https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda8%04d", step))
	attrs.PutStr("cicd.pipeline.task.name", "prep")
	attrs.PutStr("cicd.pipeline.task.run.id", fmt.Sprintf("step-%d", step))
	attrs.PutStr("vcs.ref.head.revision", "4f3c2a1b")
}

// putCodeLocation sets what a logging bridge records, plus extra attributes.
func putCodeLocation(attrs pcommon.Map, i, extra int) {
	attrs.PutStr("code.file.path", "/app/steps/train.py")
	attrs.PutInt("code.line.number", int64(40+i))
	attrs.PutStr("code.function.name", "train")
	for j := range extra {
		attrs.PutInt(fmt.Sprintf("extra.%d", j), int64(j))
	}
}

// Logs is a batch of log records of every severity. extra adds attributes
// to each record beyond the three of the code location.
func Logs(extra int) plog.Logs {
	ld := plog.NewLogs()
	now := pcommon.NewTimestampFromTime(time.Now())
	for r := range Resources {
		rl := ld.ResourceLogs().AppendEmpty()
		putRunContext(rl.Resource().Attributes(), r)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("pipelinestep")
		for i := range RecordsPerResource {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetTimestamp(now)
			lr.SetSeverityNumber(plog.SeverityNumber(1 + (i%6)*4))
			lr.Body().SetStr("epoch finished, loss decreasing as expected")
			putCodeLocation(lr.Attributes(), i, extra)
		}
	}
	return ld
}

// Traces is a batch of spans.
func Traces() ptrace.Traces {
	td := ptrace.NewTraces()
	now := time.Now()
	for r := range Resources {
		rs := td.ResourceSpans().AppendEmpty()
		putRunContext(rs.Resource().Attributes(), r)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("pipelinestep")
		for i := range RecordsPerResource {
			span := ss.Spans().AppendEmpty()
			span.SetName("train")
			span.SetTraceID(pcommon.TraceID{byte(r), byte(i), 1})
			span.SetSpanID(pcommon.SpanID{byte(r), byte(i), 2})
			span.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
			span.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Second)))
			putCodeLocation(span.Attributes(), i, 0)
		}
	}
	return td
}

// Metrics is a batch of sum data points, one metric per resource.
func Metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	now := pcommon.NewTimestampFromTime(time.Now())
	for r := range Resources {
		rm := md.ResourceMetrics().AppendEmpty()
		putRunContext(rm.Resource().Attributes(), r)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("pipelinestep")
		sum := sm.Metrics().AppendEmpty()
		sum.SetName("pipelinestep.rows_loaded")
		dps := sum.SetEmptySum().DataPoints()
		for i := range RecordsPerResource {
			dp := dps.AppendEmpty()
			dp.SetTimestamp(now)
			dp.SetIntValue(int64(i))
			dp.Attributes().PutStr("table", fmt.Sprintf("shard-%d", i))
		}
	}
	return md
}
