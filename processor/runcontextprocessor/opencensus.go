// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// What OpenCensus' AzureLogHandler wrote, and users' queries compare
// against (docs/migration.md).
const (
	// customDimensionsKey is the attribute Python's
	// extra={"custom_dimensions": {...}} becomes through the OpenTelemetry
	// SDK (1.45.2 sends it as a map; 1.32.1 drops it).
	customDimensionsKey = "custom_dimensions"
	// openCensusLevelKey is AzureLogHandler's level: Python's level name,
	// under a lower-case key.
	openCensusLevelKey = "level"

	defaultMaxCustomDimensions = 64
)

// flattenCustomDimensions turns a custom_dimensions map attribute into
// attributes of their own, as AzureLogHandler sent them: strings as they
// are, other values as their text. They are then the record's own
// attributes for everything after: an attribute of the same name the
// record already has wins, and a run-context dimension among them is the
// record's own value, kept as the processor keeps any (unless
// environment_authoritative). At most max entries are written, in key
// order; it returns how many were dropped beyond that (and empty keys).
// A custom_dimensions that is not a map is left as it is.
func flattenCustomDimensions(attrs pcommon.Map, max int) int {
	v, ok := attrs.Get(customDimensionsKey)
	if !ok || v.Type() != pcommon.ValueTypeMap {
		return 0
	}
	entries := v.Map()
	keys := make([]string, 0, entries.Len())
	for k := range entries.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	written, dropped := 0, 0
	for _, k := range keys {
		if _, exists := attrs.Get(k); exists {
			continue // the record's own attribute wins
		}
		if k == "" || written >= max {
			dropped++
			continue
		}
		e, _ := entries.Get(k)
		if e.Type() == pcommon.ValueTypeStr {
			attrs.PutStr(k, e.Str())
		} else {
			attrs.PutStr(k, e.AsString())
		}
		written++
	}
	attrs.Remove(customDimensionsKey)
	return dropped
}

// setOpenCensusLevel writes AzureLogHandler's level next to Level.
func setOpenCensusLevel(attrs pcommon.Map, lr plog.LogRecord, overwrite bool) {
	if _, ok := attrs.Get(openCensusLevelKey); ok && !overwrite {
		return
	}
	if level := levelName(lr.SeverityNumber(), lr.SeverityText()); level != "" {
		putStrIfChanged(attrs, openCensusLevelKey, level)
	}
}
