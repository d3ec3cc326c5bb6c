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
var customEventMarkers = []string{"microsoft.custom_event.name", "APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE"}

func (rcp *runContextProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	p := rcp.plan
	b := p.newBatch(ctx)
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		p.resolveResource(rl.Resource().Attributes(), b)
		dropped := b.dropped
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			before := b.dropped
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				attrs := lr.Attributes()
				if !p.applyRecord(attrs, b) {
					return true
				}
				p.applyLogRecord(lr, attrs, b)
				return false
			})
			return b.dropped > before && sl.LogRecords().Len() == 0
		})
		return b.dropped > dropped && rl.ScopeLogs().Len() == 0
	})
	return ld, rcp.record(ctx, b, ld.ResourceLogs().Len() == 0)
}

// applyLogRecord adds what only log records have: the level name, the code
// location, and the dimensions themselves on custom events.
func (p *plan) applyLogRecord(lr plog.LogRecord, attrs pcommon.Map, b *batch) {
	if p.severityKey != "" {
		if _, ok := attrs.Get(p.severityKey); !ok || p.overwrite {
			if level := levelName(lr.SeverityNumber(), lr.SeverityText()); level != "" {
				putStrIfChanged(attrs, p.severityKey, level)
			}
		}
	}
	if p.codeLocation {
		setCodeLocation(attrs, p.overwrite)
	}
	if firstPresent(attrs, customEventMarkers) {
		p.copyToRecord(attrs, b)
	}
}

func firstPresent(attrs pcommon.Map, keys []string) bool {
	for _, k := range keys {
		if _, ok := attrs.Get(k); ok {
			return true
		}
	}
	return false
}
