// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package comparison

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/benchtest"
)

var dimensions = []string{
	"parent_run_id", "step_id", "step_name", "experiment_name", "run_url",
	"run_type", "build_url", "build_version", "Level",
}

// customDimensions is what Application Insights shows for each record:
// the resource's attributes overlaid with the record's, as the Azure
// Monitor exporter builds properties; only the dimensions.
func customDimensions(ld plog.Logs) []map[string]string {
	var out []map[string]string
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				props := map[string]string{}
				for _, dim := range dimensions {
					if v, ok := rl.Resource().Attributes().Get(dim); ok {
						props[dim] = v.AsString()
					}
					if v, ok := lrs.At(k).Attributes().Get(dim); ok {
						props[dim] = v.AsString()
					}
				}
				out = append(out, props)
			}
		}
	}
	return out
}

// The comparison is fair only if every contender that can do the job
// produces the same customDimensions as runcontext.
func TestContendersProduceTheSameCustomDimensions(t *testing.T) {
	results := map[string][]map[string]string{}
	for _, c := range contenders {
		sink := new(consumertest.LogsSink)
		p := newLogsProcessor(t, c.factory, c.config, sink)
		require.NoError(t, p.Start(context.Background(), nil))
		require.NoError(t, p.ConsumeLogs(context.Background(), benchtest.Logs(0)))
		require.NoError(t, p.Shutdown(context.Background()))
		require.Len(t, sink.AllLogs(), 1)
		results[c.name] = customDimensions(sink.AllLogs()[0])
	}
	want := results["runcontext"]
	require.Len(t, want, benchtest.Records)
	for _, props := range want {
		assert.Len(t, props, len(dimensions), "runcontext sets every dimension and Level: %v", props)
	}
	assert.Equal(t, want, results["transform_log_context"])
	assert.Equal(t, want, results["transform_resource_context"])
	// Static inserts cannot follow the resource, nor derive Level: they
	// give every record the first step's context and no Level.
	for _, props := range results["attributes_static_inserts"] {
		assert.Len(t, props, len(dimensions)-1)
		assert.NotContains(t, props, "Level")
	}
}
