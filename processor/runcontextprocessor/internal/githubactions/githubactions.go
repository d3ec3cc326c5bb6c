// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package githubactions reads the run context GitHub Actions sets in the
// environment of a job.
package githubactions // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/githubactions"

import (
	"strings"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// Name is the detector's name in the processor's configuration.
const Name = "github_actions"

type githubActions struct{}

// New returns the GitHub Actions detector.
func New() detector.Detector { return githubActions{} }

func (githubActions) Kind() detector.Kind { return detector.Environment }

// Detect answers inside a GitHub Actions job, where GITHUB_RUN_ID is set.
func (githubActions) Detect(getenv func(string) string) detector.Context {
	runID := getenv("GITHUB_RUN_ID")
	if runID == "" {
		return nil
	}
	job := getenv("GITHUB_JOB")
	repo := detector.JoinURL(getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"))
	sha := getenv("GITHUB_SHA")
	return detector.Values(map[string]string{
		detector.ParentRunID:    runID,
		detector.StepID:         stepID(runID, getenv("GITHUB_RUN_ATTEMPT"), job),
		detector.StepName:       job,
		detector.ExperimentName: getenv("GITHUB_WORKFLOW"),
		detector.RunURL:         detector.JoinURL(repo, "actions/runs/"+runID),
		detector.BuildVersion:   sha,
		detector.BuildURL:       commitURL(repo, sha),
	})
}

// stepID names one run of one job: a job's id is only unique within a run,
// and a re-run attempt is a new run of the job.
func stepID(runID, attempt, job string) string {
	if job == "" {
		return ""
	}
	parts := []string{runID}
	if attempt != "" {
		parts = append(parts, attempt)
	}
	return strings.Join(append(parts, job), "/")
}

func commitURL(repo, sha string) string {
	if sha == "" {
		return ""
	}
	return detector.JoinURL(repo, "commit/"+sha)
}
