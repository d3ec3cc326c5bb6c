// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package azuredevops

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"
)

func TestDetect(t *testing.T) {
	detectortest.Run(t, New(), []detectortest.Case{
		{Name: "not in Azure Pipelines", Env: map[string]string{"TF_BUILD": ""}, Want: nil},
		{
			Name: "pipeline job",
			Env: map[string]string{
				"TF_BUILD":                           "True",
				"BUILD_BUILDID":                      "4711",
				"BUILD_BUILDNUMBER":                  "20261127.3",
				"BUILD_DEFINITIONNAME":               "train-models",
				"BUILD_SOURCEVERSION":                "4f3c2a1bd00d",
				"SYSTEM_JOBID":                       "12f1170f-54f2-53f3-20dd-22fc7dff55f9",
				"SYSTEM_JOBDISPLAYNAME":              "Train",
				"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/contoso/",
				"SYSTEM_TEAMPROJECT":                 "ML Platform",
				"SYSTEM_ACCESSTOKEN":                 "secret",
			},
			Want: detector.Context{
				"parent_run_id":   {Value: "4711"},
				"step_id":         {Value: "12f1170f-54f2-53f3-20dd-22fc7dff55f9"},
				"step_name":       {Value: "Train"},
				"experiment_name": {Value: "train-models"},
				"run_url":         {Value: "https://dev.azure.com/contoso/ML%20Platform/_build/results?buildId=4711"},
				"build_url":       {Value: "https://dev.azure.com/contoso/ML%20Platform/_build/results?buildId=4711"},
				"build_version":   {Value: "4f3c2a1bd00d"},
			},
		},
		{
			Name: "no source version: the build number",
			Env:  map[string]string{"BUILD_BUILDID": "9", "BUILD_BUILDNUMBER": "1.0.9"},
			Want: detector.Context{
				"parent_run_id": {Value: "9"},
				"build_version": {Value: "1.0.9"},
			},
		},
	})
}
