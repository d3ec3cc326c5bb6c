// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The Azure Monitor exporter turns a log record carrying either attribute
// into a custom event, whose properties hold the record's attributes only,
// not its resource's.
var customEventMarkers = [2]string{"microsoft.custom_event.name", "APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE"}

func (sp *signalProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	p := sp.plan
	if p == nil {
		return ld, errNotStarted
	}
	st := p.newConsumeState(ctx)
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		p.resolveResource(rl.Resource().Attributes(), st)
		dropped := st.dropped
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			before := st.dropped
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				attrs := lr.Attributes()
				if p.maxCustomDimensions > 0 {
					st.customDimensionsDropped += int64(flattenCustomDimensions(attrs, p.maxCustomDimensions))
				}
				if !p.applyRecord(attrs, st) {
					return true
				}
				p.applyLogRecord(lr, attrs, st)
				return false
			})
			return st.dropped > before && sl.LogRecords().Len() == 0
		})
		return st.dropped > dropped && rl.ScopeLogs().Len() == 0
	})
	return ld, sp.reportTelemetry(ctx, st, ld.ResourceLogs().Len() == 0)
}

// applyLogRecord adds what only log records have: the level name, the code
// location, and the dimensions themselves on custom events. One pass over
// the record's attributes finds everything it needs to know: this runs for
// every log record.
func (p *plan) applyLogRecord(lr plog.LogRecord, attrs pcommon.Map, st *consumeState) {
	hasLevel, customEvent := false, false
	for k := range attrs.All() {
		switch k {
		case p.severityKey:
			hasLevel = true
		case customEventMarkers[0], customEventMarkers[1]:
			customEvent = true
		}
	}
	if p.severityKey != "" && (!hasLevel || p.overwrite) {
		if level := levelName(lr.SeverityNumber(), lr.SeverityText()); level != "" {
			if hasLevel {
				putStrIfChanged(attrs, p.severityKey, level)
			} else {
				attrs.PutStr(p.severityKey, level)
			}
		}
	}
	if p.opencensus {
		setOpenCensusLevel(attrs, lr, p.overwrite)
	}
	if p.codeLocation {
		setCodeLocation(attrs, p.overwrite)
	}
	if customEvent {
		p.copyToRecord(attrs, st)
	}
}
