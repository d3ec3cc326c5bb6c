// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query"

import (
	"strings"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

// envelope is a stored line, with every field some table's column reads.
type envelope struct {
	Name       string            `json:"name"`
	Time       string            `json:"time"`
	IKey       string            `json:"iKey"`
	SampleRate float64           `json:"sampleRate"`
	Tags       map[string]string `json:"tags"`
	Data       struct {
		BaseType string   `json:"baseType"`
		BaseData baseData `json:"baseData"`
	} `json:"data"`
}

type baseData struct {
	Message       string               `json:"message"`
	SeverityLevel *int64               `json:"severityLevel"`
	Name          string               `json:"name"`
	ID            string               `json:"id"`
	Duration      string               `json:"duration"`
	ResponseCode  string               `json:"responseCode"`
	ResultCode    string               `json:"resultCode"`
	Success       *bool                `json:"success"`
	URL           string               `json:"url"`
	Source        string               `json:"source"`
	Data          string               `json:"data"`
	Target        string               `json:"target"`
	Type          string               `json:"type"`
	ProblemID     string               `json:"problemId"`
	Exceptions    []exceptionDetails   `json:"exceptions"`
	Metrics       []dataPoint          `json:"metrics"`
	Properties    ingestion.Properties `json:"properties"`
	Measurements  map[string]float64   `json:"measurements"`
}

type exceptionDetails struct {
	ID           int64        `json:"id"`
	OuterID      int64        `json:"outerId"`
	TypeName     string       `json:"typeName"`
	Message      string       `json:"message"`
	HasFullStack bool         `json:"hasFullStack"`
	Stack        string       `json:"stack"`
	ParsedStack  []stackFrame `json:"parsedStack"`
}

type stackFrame struct {
	Level    int64  `json:"level"`
	Method   string `json:"method"`
	Assembly string `json:"assembly"`
	FileName string `json:"fileName"`
	Line     int64  `json:"line"`
}

type dataPoint struct {
	Name   string   `json:"name"`
	Kind   int      `json:"kind"`
	Value  float64  `json:"value"`
	Count  *int64   `json:"count"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
	StdDev *float64 `json:"stdDev"`
}

// itemType is the envelope's type as the tables know it: the last part of
// Microsoft.ApplicationInsights.[<key>.]<Type>.
func (e *envelope) itemType() string {
	return e.Name[strings.LastIndexByte(e.Name, '.')+1:]
}
