// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"
)

// scopeName is the instrumentation scope of what the launcher sends.
const scopeName = "github.com/otelcol-runcontext/otelcol-runcontext/cmd/runcontext-launch"

// The step's result, as the CICD conventions' cicd.pipeline.task.run.result
// has it.
const (
	resultSuccess      = "success"
	resultFailure      = "failure"
	resultError        = "error"
	resultTimeout      = "timeout"
	resultCancellation = "cancellation"
)

// exportTimeout bounds one export to the step's collector, which is on
// loopback: longer means it is stuck, and the bounded buffer before it
// drops rather than wait.
const exportTimeout = 5 * time.Second

// stepTelemetry is what the launcher itself sends about the step to its
// collector: the task-run span, the step's output as log records, and the
// summary. The collector's runcontext adds the run context to all of it,
// as to what the step's own SDK sends.
type stepTelemetry struct {
	traces *sdktrace.TracerProvider
	logs   *sdklog.LoggerProvider
	batch  *batcher
	logger log.Logger
	span   trace.Span
	ctx    context.Context // carries span
}

// task names the step in the CICD conventions.
type task struct {
	name, runID, runURL string
	command             []string
}

// taskOf names the step as the collector's runcontext will: from the
// detected platform's step name, id and URL, else from the command.
func taskOf(name string, command []string, environ []string) task {
	found := runcontextprocessor.EnvironmentContext(getenvOf(environ))
	t := task{name: name, runID: found["step_id"], runURL: found["run_url"], command: command}
	if t.name == "" {
		t.name = found["step_name"]
	}
	if t.name == "" {
		t.name = commandName(command)
	}
	return t
}

// commandName is a short, low-cardinality name for a command: its
// program, and the script an interpreter runs ("python train.py").
func commandName(command []string) string {
	name := filepath.Base(command[0])
	for _, arg := range command[1:] {
		if strings.HasPrefix(arg, "-") {
			break
		}
		return name + " " + filepath.Base(arg)
	}
	return name
}

// startTelemetry sets up the launcher's SDK, sending over OTLP/HTTP to the
// collector at addr, and starts the task-run span.
func startTelemetry(addr string, t task, environ []string) (*stepTelemetry, error) {
	ctx := context.Background()
	res := stepResource(t, environ)
	spans, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure(),
		otlptracehttp.WithTimeout(exportTimeout), otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, err
	}
	records, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(addr), otlploghttp.WithInsecure(),
		otlploghttp.WithTimeout(exportTimeout), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		return nil, err
	}
	st := &stepTelemetry{batch: &batcher{exporter: records, size: 512}}
	st.traces = sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(spans))
	st.logs = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(st.batch))
	st.logger = st.logs.Logger(scopeName)

	attrs := []attribute.KeyValue{
		attribute.String("cicd.pipeline.task.name", t.name),
		attribute.StringSlice("process.command_args", t.command),
	}
	if t.runID != "" {
		attrs = append(attrs, attribute.String("cicd.pipeline.task.run.id", t.runID))
	}
	if t.runURL != "" {
		attrs = append(attrs, attribute.String("cicd.pipeline.task.run.url.full", t.runURL))
	}
	// SERVER: the exporter sends SERVER spans to the requests table, with
	// a duration and a success flag (docs/design.md).
	st.ctx, st.span = st.traces.Tracer(scopeName).Start(ctx, t.name,
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return st, nil
}

// traceparent is the task-run span as W3C trace context, for the step's
// environment (TRACEPARENT), so that the step's own SDK can join it.
func (st *stepTelemetry) traceparent() string {
	sc := st.span.SpanContext()
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}

// emit sends one record in the step's trace.
func (st *stepTelemetry) emit(r log.Record) {
	st.logger.Emit(st.ctx, r)
}

// stepOutcome is how the step ended.
type stepOutcome struct {
	code     int
	result   string
	errType  string
	duration time.Duration
}

// finish sends what is left, the summary, and the span, and shuts the
// SDK down. It returns false when something could not be delivered to
// the collector.
func (st *stepTelemetry) finish(o stepOutcome, s *recordSink, dropped int64, deadline time.Duration) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	flushErr := st.logs.ForceFlush(ctx)
	delivered := flushErr == nil && st.batch.failed.Load() == 0

	summary := log.Record{}
	summary.SetTimestamp(time.Now())
	level := summaryLevel(o, dropped)
	summary.SetSeverity(level.Severity)
	summary.SetSeverityText(level.Name)
	text := s.summary(o, dropped, st.batch.failed.Load(), delivered)
	summary.SetBody(attribute.StringValue(text))
	attrs := []attribute.KeyValue{
		attribute.String("event.name", "runcontext.step.summary"),
		attribute.Int("process.exit.code", o.code),
		attribute.String("cicd.pipeline.task.run.result", o.result),
		attribute.Float64("runcontext.step.duration_seconds", o.duration.Seconds()),
		attribute.Int64("runcontext.step.lines_dropped", dropped),
		attribute.Int64("runcontext.step.duplicates_skipped", s.duplicates),
		attribute.Bool("runcontext.step.flush_succeeded", delivered),
		attribute.Int64("runcontext.step.records_undelivered", st.batch.failed.Load()),
	}
	for _, l := range s.levels() {
		attrs = append(attrs, attribute.Int64("runcontext.step.lines."+strings.ToLower(l.name), l.count))
	}
	summary.AddAttributes(attrs...)
	st.emit(summary)

	st.span.SetAttributes(
		attribute.String("cicd.pipeline.task.run.result", o.result),
		attribute.Int("process.exit.code", o.code),
	)
	if o.result != resultSuccess {
		st.span.SetAttributes(attribute.String("error.type", o.errType))
		st.span.SetStatus(codes.Error, o.errType)
	}
	st.span.End()
	err := errors.Join(st.logs.Shutdown(ctx), st.traces.Shutdown(ctx))
	return delivered && err == nil && st.batch.failed.Load() == 0, text
}

// summaryLevel is ERROR for a step that did not succeed, WARNING when
// lines were dropped, else INFO.
func summaryLevel(o stepOutcome, dropped int64) console.Level {
	switch {
	case o.result != resultSuccess:
		return console.Error
	case dropped > 0:
		return console.Warning
	}
	return console.Info
}

// stepResource is the resource of what the launcher sends: the step's
// own OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, so that the
// launcher's records sit with the step's in Application Insights
// (cloud_RoleName), the service named after the task when unset.
func stepResource(t task, environ []string) *resource.Resource {
	getenv := getenvOf(environ)
	var attrs []attribute.KeyValue
	for _, pair := range strings.Split(getenv("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			continue
		}
		if dv, err := url.PathUnescape(strings.TrimSpace(v)); err == nil {
			v = dv
		}
		attrs = append(attrs, attribute.String(strings.TrimSpace(k), v))
	}
	service := getenv("OTEL_SERVICE_NAME")
	if service == "" {
		for _, kv := range attrs {
			if kv.Key == "service.name" {
				service = kv.Value.AsString()
			}
		}
	}
	if service == "" {
		service = t.name
	}
	attrs = append(attrs, attribute.String("service.name", service))
	return resource.NewSchemaless(attrs...)
}

// getenvOf reads a variable of environ, the last one winning as for exec.
func getenvOf(environ []string) func(string) string {
	return func(key string) string {
		for i := len(environ) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(environ[i], key+"="); ok {
				return v
			}
		}
		return ""
	}
}

// batcher is an sdk/log Processor that exports in batches, synchronously,
// from the goroutine that emits: the capture's consumer. It holds at most
// size records and never drops: when the collector is slow, the consumer
// waits here and the capture's bounded buffer before it drops, and
// counts.
type batcher struct {
	exporter sdklog.Exporter
	size     int

	mu      sync.Mutex // serializes exports
	pending []sdklog.Record
	since   time.Time // when the oldest pending record came
	sent    atomic.Int64
	failed  atomic.Int64
}

func (b *batcher) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (b *batcher) OnEmit(ctx context.Context, r *sdklog.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.since = time.Now()
	}
	b.pending = append(b.pending, r.Clone())
	if len(b.pending) >= b.size {
		return b.exportLocked(ctx)
	}
	return nil
}

func (b *batcher) ForceFlush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exportLocked(ctx)
}

// batchDelay is the longest a record waits for its batch to fill: the
// OpenTelemetry SDKs' default.
const batchDelay = time.Second

// flushIfDue exports a batch that has waited batchDelay: a step that
// prints a little and then computes for hours has those lines sent.
func (b *batcher) flushIfDue(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) > 0 && now.Sub(b.since) >= batchDelay {
		_ = b.exportLocked(context.Background())
	}
}

func (b *batcher) exportLocked(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, exportTimeout)
	defer cancel()
	err := b.exporter.Export(ctx, b.pending)
	if err != nil {
		b.failed.Add(int64(len(b.pending)))
	} else {
		b.sent.Add(int64(len(b.pending)))
	}
	clear(b.pending)
	b.pending = b.pending[:0]
	return err
}

func (b *batcher) Shutdown(ctx context.Context) error {
	return errors.Join(b.ForceFlush(ctx), b.exporter.Shutdown(ctx))
}
