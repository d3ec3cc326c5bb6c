// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package gitlab reads the run context GitLab CI sets in the environment of
// a job.
package gitlab // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/gitlab"

import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"

// Name is the detector's name in the processor's configuration.
const Name = "gitlab"

type gitLab struct{}

// New returns the GitLab CI detector.
func New() detector.Detector { return gitLab{} }

func (gitLab) Kind() detector.Kind { return detector.Environment }

// Detect answers inside a GitLab CI job, where CI_PIPELINE_ID is set.
func (gitLab) Detect(getenv func(string) string) detector.Context {
	pipelineID := getenv("CI_PIPELINE_ID")
	if pipelineID == "" {
		return nil
	}
	sha := getenv("CI_COMMIT_SHA")
	var commitURL string
	if sha != "" {
		commitURL = detector.JoinURL(getenv("CI_PROJECT_URL"), "-/commit/"+sha)
	}
	return detector.Values(map[string]string{
		detector.ParentRunID:    pipelineID,
		detector.StepID:         getenv("CI_JOB_ID"),
		detector.StepName:       getenv("CI_JOB_NAME"),
		detector.ExperimentName: getenv("CI_PROJECT_PATH"),
		detector.RunURL:         getenv("CI_PIPELINE_URL"),
		detector.BuildVersion:   sha,
		detector.BuildURL:       commitURL,
	})
}
