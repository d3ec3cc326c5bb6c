// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package azuredevops reads the run context Azure Pipelines sets in the
// environment of a job.
package azuredevops // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/azuredevops"

import (
	"net/url"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// Name is the detector's name in the processor's configuration.
const Name = "azure_devops"

type azureDevOps struct{}

// New returns the Azure DevOps detector.
func New() detector.Detector { return azureDevOps{} }

func (azureDevOps) Kind() detector.Kind { return detector.Environment }

// Detect answers inside an Azure Pipelines job, where BUILD_BUILDID is set.
func (azureDevOps) Detect(getenv func(string) string) detector.Context {
	buildID := getenv("BUILD_BUILDID")
	if buildID == "" {
		return nil
	}
	version := getenv("BUILD_SOURCEVERSION")
	if version == "" {
		version = getenv("BUILD_BUILDNUMBER")
	}
	results := resultsURL(getenv("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"), getenv("SYSTEM_TEAMPROJECT"), buildID)
	return detector.Values(map[string]string{
		detector.ParentRunID:    buildID,
		detector.StepID:         getenv("SYSTEM_JOBID"),
		detector.StepName:       getenv("SYSTEM_JOBDISPLAYNAME"),
		detector.ExperimentName: getenv("BUILD_DEFINITIONNAME"),
		detector.RunURL:         results,
		// A pipeline run in Azure DevOps is the build.
		detector.BuildURL:     results,
		detector.BuildVersion: version,
	})
}

// resultsURL is <collection uri><project>/_build/results?buildId=<id>.
func resultsURL(collectionURI, project, buildID string) string {
	if project == "" {
		return ""
	}
	return detector.JoinURL(collectionURI, url.PathEscape(project)+"/_build/results?buildId="+url.QueryEscape(buildID))
}
