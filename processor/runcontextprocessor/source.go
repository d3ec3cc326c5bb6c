// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"fmt"
	"strings"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// sourceKind says where a source finds its value, and so how often it must
// be looked at: once per record, once per resource or once per request.
type sourceKind uint8

const (
	// recordAttribute reads the record's own attributes: per record.
	recordAttribute sourceKind = iota
	// resourceAttribute reads the resource's attributes: per resource.
	resourceAttribute
	// clientMetadata reads the request's client metadata: per request.
	clientMetadata
	// fixedValue is known at start.
	fixedValue
	// templated builds the value from other dimensions and sources.
	templated
)

// The prefixes of source references, as written in the configuration.
var sourcePrefixes = []struct {
	prefix string
	kind   sourceKind
}{
	{"attributes.", recordAttribute},
	{"resource.", resourceAttribute},
	{"metadata.", clientMetadata},
}

// source is one place a dimension's value may come from.
type source struct {
	kind sourceKind
	// key is the attribute or metadata key; for fixedValue, the value.
	key string
	// tmpl is set for templated sources.
	tmpl *template
	// index is a clientMetadata source's place in plan.metadataKeys.
	index int
}

// parseSource parses a reference such as resource.cicd.pipeline.run.id.
func parseSource(ref string) (source, error) {
	for _, p := range sourcePrefixes {
		key, ok := strings.CutPrefix(ref, p.prefix)
		if !ok {
			continue
		}
		if key == "" {
			return source{}, fmt.Errorf("source %q names no key after %q", ref, p.prefix)
		}
		if p.kind == clientMetadata {
			// Client metadata keys are case-insensitive and stored lower case.
			key = strings.ToLower(key)
			// A header that carries credentials would be copied into every
			// envelope's customDimensions, readable by anyone who can
			// query the resource.
			if detector.IsSecret(key) {
				return source{}, fmt.Errorf("source %q reads a header that carries credentials; it would be written into every envelope", ref)
			}
		}
		return source{kind: p.kind, key: key}, nil
	}
	return source{}, fmt.Errorf("unknown source %q: use attributes.<key>, resource.<key> or metadata.<key>", ref)
}

func (s source) String() string {
	switch s.kind {
	case recordAttribute:
		return "attributes." + s.key
	case resourceAttribute:
		return "resource." + s.key
	case clientMetadata:
		return "metadata." + s.key
	case fixedValue:
		return fmt.Sprintf("value %q", s.key)
	default:
		return "template"
	}
}
