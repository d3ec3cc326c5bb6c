// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

// The step's span and metrics carry the same run context as its logs:
// the span as a dependency, each metric point as MetricData. The
// dimensions config/local.yaml excludes from metrics (run_url, build_url)
// are absent there, and only there.
func TestSpansAndMetricsCarryTheRunContext(t *testing.T) {
	c, envelopesPath := localCollector(t)
	runStep(t, c, "grpc", trainingRun)
	c.stop(t)
	envs := readEnvelopes(t, envelopesPath)

	byName := map[string][]ingestion.Envelope{}
	for _, e := range envs {
		byName[e.Name] = append(byName[e.Name], e)
	}
	spans := append(byName["Microsoft.ApplicationInsights.RemoteDependency"], byName["Microsoft.ApplicationInsights.Request"]...)
	require.Len(t, spans, 1, "the step's one span")
	assert.Equal(t, "train", spans[0].Data.BaseData.Name)
	for dim, want := range trainingRun.dimensions() {
		assert.Equal(t, want, spans[0].Data.BaseData.Properties[dim], "span: %s", dim)
	}
	_, hasLevel := spans[0].Data.BaseData.Properties["Level"]
	assert.False(t, hasLevel, "Level is for logs only")

	points := map[string]bool{}
	for _, e := range byName["Microsoft.ApplicationInsights.Metric"] {
		require.NotEmpty(t, e.Data.BaseData.Metrics)
		name := e.Data.BaseData.Metrics[0].Name
		points[name] = true
		props := e.Data.BaseData.Properties
		for dim, want := range trainingRun.dimensions() {
			if dim == "run_url" || dim == "build_url" {
				assert.NotContains(t, props, dim, "metric %s: excluded %s", name, dim)
				continue
			}
			assert.Equal(t, want, props[dim], "metric %s: %s", name, dim)
		}
	}
	assert.True(t, points["pipelinestep.rows_loaded"], "the counter arrived: %v", points)
	assert.True(t, points["pipelinestep.epoch.duration"], "the histogram arrived: %v", points)

	// The logs still carry the excluded dimensions.
	assertStepArrived(t, envs, trainingRun)
}
