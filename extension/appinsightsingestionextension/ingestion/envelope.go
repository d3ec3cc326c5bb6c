// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestion // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// Envelope is one telemetry item as Application Insights receives it. It
// holds the fields this endpoint checks and tests read; the stored line
// keeps everything the sender wrote.
type Envelope struct {
	Name string            `json:"name"`
	Time string            `json:"time"`
	IKey string            `json:"iKey"`
	Tags map[string]string `json:"tags,omitempty"`
	Data *Data             `json:"data"`
}

// Data is the envelope's payload: its type and the item itself.
type Data struct {
	BaseType string    `json:"baseType"`
	BaseData *BaseData `json:"baseData"`
}

// BaseData holds the fields of every item type this endpoint knows; each
// type uses some of them.
type BaseData struct {
	// MessageData, ExceptionData
	Message       string `json:"message,omitempty"`
	SeverityLevel *int   `json:"severityLevel,omitempty"`
	// ExceptionData
	Exceptions []ExceptionDetails `json:"exceptions,omitempty"`
	// EventData, RequestData, RemoteDependencyData
	Name string `json:"name,omitempty"`
	// RequestData, RemoteDependencyData
	ID           string `json:"id,omitempty"`
	Duration     string `json:"duration,omitempty"`
	ResponseCode string `json:"responseCode,omitempty"`
	ResultCode   string `json:"resultCode,omitempty"`
	Success      *bool  `json:"success,omitempty"`
	// MetricData
	Metrics []DataPoint `json:"metrics,omitempty"`
	// Every type: customDimensions in Application Insights.
	Properties Properties `json:"properties,omitempty"`
}

// Properties are an item's customDimensions: strings, as Application
// Insights stores them. A sender may write a number or a boolean
// (OpenCensus' AzureLogHandler writes lineNumber as a number), which the
// service takes and stores as its text; so does this reader.
type Properties map[string]string

// UnmarshalJSON reads string values as they are, and any other value as
// its JSON text.
func (p *Properties) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Properties, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	*p = out
	return nil
}

// ExceptionDetails is one exception of an ExceptionData item.
type ExceptionDetails struct {
	TypeName string `json:"typeName"`
	Message  string `json:"message"`
	Stack    string `json:"stack,omitempty"`
}

// DataPoint is one metric value of a MetricData item.
type DataPoint struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Count *int    `json:"count,omitempty"`
}

// ReadEnvelopes reads a file written by a Store: one envelope per line.
func ReadEnvelopes(path string) ([]Envelope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var envelopes []Envelope
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), trackprotocol.MaxBodyBytes)
	for line := 1; sc.Scan(); line++ {
		var e Envelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return envelopes, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		envelopes = append(envelopes, e)
	}
	return envelopes, sc.Err()
}
