// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package azureml reads the run context Azure Machine Learning sets in the
// environment of a job.
package azureml // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/azureml"

import (
	"fmt"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// Name is the detector's name in the processor's configuration.
const Name = "azureml"

type azureML struct{}

// New returns the Azure Machine Learning detector.
func New() detector.Detector { return azureML{} }

func (azureML) Kind() detector.Kind { return detector.Environment }

// Detect answers inside an Azure ML job, where AZUREML_RUN_ID is set.
func (azureML) Detect(getenv func(string) string) detector.Context {
	runID := getenv("AZUREML_RUN_ID")
	if runID == "" {
		return nil
	}
	// A single-step job is its own root run.
	rootRunID := getenv("AZUREML_ROOT_RUN_ID")
	if rootRunID == "" {
		rootRunID = runID
	}
	return detector.Values(map[string]string{
		detector.ParentRunID:    rootRunID,
		detector.StepID:         runID,
		detector.ExperimentName: getenv("AZUREML_ARM_PROJECT_NAME"),
		detector.RunURL: studioURL(rootRunID,
			getenv("AZUREML_ARM_SUBSCRIPTION"), getenv("AZUREML_ARM_RESOURCEGROUP"), getenv("AZUREML_ARM_WORKSPACE_NAME")),
	})
}

// studioURL links to the pipeline run in Azure ML studio, or is "" when the
// workspace is not known.
func studioURL(runID, subscription, resourceGroup, workspace string) string {
	if subscription == "" || resourceGroup == "" || workspace == "" {
		return ""
	}
	return fmt.Sprintf("https://ml.azure.com/runs/%s?wsid=/subscriptions/%s/resourcegroups/%s/workspaces/%s",
		runID, subscription, resourceGroup, workspace)
}
