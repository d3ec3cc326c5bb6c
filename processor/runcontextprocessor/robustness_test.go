// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/metadata"
)

// process runs one batch through a processor made from cfg, in an empty
// environment, and returns what reached the next consumer (nothing when the
// whole batch was dropped).
func process(t testing.TB, cfg *Config, ld plog.Logs) []plog.Logs {
	t.Helper()
	return processOnce(t, logsPipeline, context.Background(), nil, cfg, ld)
}

func defaultConfig() *Config { return createDefaultConfig().(*Config) }

// resourceValue reads a resource attribute of the first resource.
func resourceValue(ld plog.Logs, key string) (pcommon.Value, bool) {
	return ld.ResourceLogs().At(0).Resource().Attributes().Get(key)
}

func TestEmptyBatchesPassThrough(t *testing.T) {
	t.Parallel()
	for name, ld := range map[string]plog.Logs{
		"no resources": plog.NewLogs(),
		"empty resource": func() plog.Logs {
			ld := plog.NewLogs()
			ld.ResourceLogs().AppendEmpty()
			return ld
		}(),
		"empty scope": func() plog.Logs {
			ld := plog.NewLogs()
			ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
			return ld
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := plog.NewLogs()
			ld.CopyTo(want)
			out := process(t, defaultConfig(), ld)
			require.Len(t, out, 1)
			require.NoError(t, plogtest.CompareLogs(want, out[0]))
		})
	}
}

func TestRecordsWithoutAttributesGetTheContext(t *testing.T) {
	t.Parallel()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("cicd.pipeline.run.id", "run-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetSeverityNumber(plog.SeverityNumberError)

	out := process(t, defaultConfig(), ld)
	v, ok := resourceValue(out[0], "parent_run_id")
	require.True(t, ok)
	assert.Equal(t, "run-1", v.Str())
	level, ok := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("Level")
	require.True(t, ok)
	assert.Equal(t, "ERROR", level.Str())
}

// Values are passed on whole: the exporter, not the processor, applies
// Application Insights' 8192-character limit.
func TestLongValuesArePassedOnWhole(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("r", 20000)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("cicd.pipeline.run.id", long)
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()

	out := process(t, defaultConfig(), ld)
	v, _ := resourceValue(out[0], "parent_run_id")
	assert.Equal(t, long, v.Str())
}

func TestNonStringSourcesAreWrittenAsStrings(t *testing.T) {
	t.Parallel()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	attrs := rl.Resource().Attributes()
	attrs.PutInt("cicd.pipeline.run.id", 42)
	attrs.PutDouble("cicd.pipeline.task.run.id", 1.5)
	attrs.PutBool("cicd.pipeline.task.name", true)
	attrs.PutEmptyMap("cicd.pipeline.name").PutStr("k", "v")
	attrs.PutEmptySlice("cicd.pipeline.run.url.full").AppendEmpty().SetInt(1)
	attrs.PutEmptyBytes("vcs.ref.head.revision").FromRaw([]byte{0xab, 0xcd})
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()

	out := process(t, defaultConfig(), ld)
	for dim, want := range map[string]string{
		"parent_run_id":   "42",
		"step_id":         "1.5",
		"step_name":       "true",
		"experiment_name": `{"k":"v"}`,
		"run_url":         "[1]",
		"build_version":   "q80=",
	} {
		v, ok := resourceValue(out[0], dim)
		require.True(t, ok, dim)
		assert.Equal(t, pcommon.ValueTypeStr, v.Type(), dim)
		assert.Equal(t, want, v.Str(), dim)
	}
}

func TestInvalidUTF8IsPassedOn(t *testing.T) {
	t.Parallel()
	bad := "run-\xff\xfe"
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("cicd.pipeline.run.id", bad)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetSeverityText("\xff")

	out := process(t, defaultConfig(), ld)
	v, _ := resourceValue(out[0], "parent_run_id")
	assert.Equal(t, bad, v.Str())
	// An unknown severity text is passed on in upper case; invalid UTF-8
	// becomes the replacement character, which JSON can carry.
	level, ok := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("Level")
	require.True(t, ok)
	assert.Equal(t, "\uFFFD", level.Str())
}

func TestThousandsOfAttributes(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Dimensions = map[string]DimensionConfig{"step_id": {From: []string{"attributes.a4999"}}}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	for i := range 5000 {
		rl.Resource().Attributes().PutStr(fmt.Sprintf("r%d", i), "x")
		lr.Attributes().PutInt(fmt.Sprintf("a%d", i), int64(i))
	}
	out := process(t, cfg, ld)
	v, ok := out[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("step_id")
	require.True(t, ok)
	assert.Equal(t, "4999", v.Str())
}

// When every record is dropped nothing is passed on, and no error reaches
// the receiver: the drop was asked for.
func TestDroppingEveryRecordPassesNothingOn(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Required = []string{"parent_run_id"}
	cfg.OnMissing = MissingDrop
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	assert.Empty(t, process(t, cfg, ld))
}

// FuzzLogs drives the processor, configured with every kind of source, with
// arbitrary OTLP payloads: it must never panic, and every record must come
// out or be counted as dropped.
func FuzzLogs(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "logs", "*_input.yaml"))
	require.NoError(f, err)
	for _, in := range inputs {
		ld, err := golden.ReadLogs(in)
		require.NoError(f, err)
		b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
		require.NoError(f, err)
		f.Add(b, false)
		f.Add(b, true)
	}

	f.Fuzz(func(t *testing.T, payload []byte, overwrite bool) {
		ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(payload)
		if err != nil {
			return // not OTLP: the receiver would have refused it
		}
		cfg, err := loadConfig(t, "fuzz")
		require.NoError(t, err)
		cfg.Overwrite = overwrite
		in := ld.LogRecordCount()

		passed := process(t, cfg, ld)

		out := 0
		for _, l := range passed {
			out += l.LogRecordCount()
		}
		// Records lacking a required dimension are dropped and counted;
		// every record passed on carries both.
		require.LessOrEqual(t, out, in)
		for _, l := range passed {
			for i := 0; i < l.ResourceLogs().Len(); i++ {
				rl := l.ResourceLogs().At(i)
				for j := 0; j < rl.ScopeLogs().Len(); j++ {
					for k := 0; k < rl.ScopeLogs().At(j).LogRecords().Len(); k++ {
						attrs := rl.ScopeLogs().At(j).LogRecords().At(k).Attributes()
						for _, dim := range cfg.Required {
							require.True(t, hasValue(attrs, dim) || hasValue(rl.Resource().Attributes(), dim),
								"a record passed on lacks the required %s", dim)
						}
					}
				}
			}
		}
	})
}

func hasValue(attrs pcommon.Map, key string) bool {
	v, ok := attrs.Get(key)
	return ok && v.AsString() != ""
}

// Receivers call a processor from many goroutines at once: the plan is
// shared and read-only, each call has its own scratch state.
func TestConcurrentBatches(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(t, "fuzz")
	require.NoError(t, err)
	cfg.OnMissing = MissingKeep
	consume, out := started(t, logsPipeline, testFactory(nil), processortest.NewNopSettings(metadata.Type), cfg)
	input, err := golden.ReadLogs(filepath.Join("testdata", "logs", "templates_input.yaml"))
	require.NoError(t, err)

	const goroutines, batches = 8, 50
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range batches {
				ld := plog.NewLogs()
				input.CopyTo(ld)
				assert.NoError(t, consume(context.Background(), ld))
			}
		})
	}
	wg.Wait()
	records := 0
	for _, ld := range out() {
		records += ld.LogRecordCount()
	}
	assert.Equal(t, goroutines*batches*input.LogRecordCount(), records)
}
