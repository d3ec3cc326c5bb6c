// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// pipelineStep is the example step of examples/pipelinestep, a module of
// its own, as a user's step would be.
var pipelineStep = buildOnce("pipelinestep", filepath.Join("examples", "pipelinestep"), ".")

// distribution is the collector, built from this checkout's source.
var distribution = buildOnce("otelcol-runcontext", ".", "./cmd/otelcol-runcontext")

// buildDir holds what the tests build; TestMain removes it.
var buildDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "runcontext-e2e") })

// buildOnce returns a function that builds the Go package pkg, in the folder
// dir of the repository, once per test binary run: tests running the
// binary concurrently share the build.
func buildOnce(name, dir, pkg string) func() (string, error) {
	return sync.OnceValues(func() (string, error) {
		tmp, err := buildDir()
		if err != nil {
			return "", err
		}
		path := filepath.Join(tmp, name)
		cmd := exec.Command("go", "build", "-o", path, pkg)
		cmd.Dir = filepath.Join(repoRoot, dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, dir, err, out)
		}
		return path, nil
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := buildDir(); err == nil {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// runContext is what one step run reports about itself, as a pipeline sets
// it in OTEL_RESOURCE_ATTRIBUTES with the CICD conventions.
type runContext struct {
	parentRunID, stepID, stepName, experiment, runURL, runType, buildURL, buildVersion string
}

func (rc runContext) resourceAttributes() string {
	return strings.Join([]string{
		"cicd.pipeline.run.id=" + rc.parentRunID,
		"cicd.pipeline.task.run.id=" + rc.stepID,
		"cicd.pipeline.task.name=" + rc.stepName,
		"cicd.pipeline.name=" + rc.experiment,
		"cicd.pipeline.run.url.full=" + rc.runURL,
		"vcs.ref.head.revision=" + rc.buildVersion,
		// No convention exists for these two: the step names the dimension
		// itself, and the processor leaves a value it already carries.
		"run_type=" + rc.runType,
		"build_url=" + rc.buildURL,
	}, ",")
}

// dimensions is what Application Insights must show in customDimensions.
func (rc runContext) dimensions() map[string]string {
	return map[string]string{
		"parent_run_id":   rc.parentRunID,
		"step_id":         rc.stepID,
		"step_name":       rc.stepName,
		"experiment_name": rc.experiment,
		"run_url":         rc.runURL,
		"run_type":        rc.runType,
		"build_url":       rc.buildURL,
		"build_version":   rc.buildVersion,
	}
}

var trainingRun = runContext{
	parentRunID:  "931024c2-3720-11ea-b247-c49deda841c1",
	stepID:       "a1b2c3d4-step-prep",
	stepName:     "prep",
	experiment:   "train-pipeline",
	runURL:       "https://ml.azure.com/runs/931024c2-3720-11ea-b247-c49deda841c1",
	runType:      "training",
	buildURL:     "https://github.com/org/repo/commit/4f3c2a1b",
	buildVersion: "4f3c2a1b",
}

// runStep runs the example step against the collector over protocol
// ("grpc" or "http/protobuf") with the given run context and extra
// environment, and waits for it to flush and exit.
func runStep(t *testing.T, c *collector, protocol string, rc runContext, env ...string) {
	t.Helper()
	require.NoError(t, stepRun(c, protocol, rc, env...))
}

// stepRun is runStep for goroutines other than the test's, which must not
// stop the test themselves.
func stepRun(c *collector, protocol string, rc runContext, env ...string) error {
	step, err := pipelineStep()
	if err != nil {
		return err
	}
	endpoint := c.scheme + "://" + c.httpAddr
	if protocol == "grpc" {
		endpoint = c.scheme + "://" + c.grpcAddr
	}
	cmd := exec.Command(step)
	cmd.Env = append(os.Environ(),
		"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL="+protocol,
		"OTEL_SERVICE_NAME=pipelinestep",
		"OTEL_RESOURCE_ATTRIBUTES="+rc.resourceAttributes(),
	)
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pipeline step: %w\n%s", err, out)
	}
	return nil
}
