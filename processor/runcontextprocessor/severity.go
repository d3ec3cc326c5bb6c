// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Python logging's level names, which OpenCensus' AzureLogHandler wrote to
// customDimensions.level and which users' queries compare against.
const (
	levelDebug    = "DEBUG"
	levelInfo     = "INFO"
	levelWarning  = "WARNING"
	levelError    = "ERROR"
	levelCritical = "CRITICAL"
)

// levelName maps a record's severity to a Python level name: from the
// severity number, or from the severity text when the number is unset.
// The number ranges match the Azure Monitor exporter's severityLevel, so
// Level and severityLevel never disagree. It returns "" when the record
// has no severity at all.
func levelName(number plog.SeverityNumber, text string) string {
	switch {
	case number >= plog.SeverityNumberTrace && number <= plog.SeverityNumberDebug4:
		return levelDebug
	case number >= plog.SeverityNumberInfo && number <= plog.SeverityNumberInfo4:
		return levelInfo
	case number >= plog.SeverityNumberWarn && number <= plog.SeverityNumberWarn4:
		return levelWarning
	case number >= plog.SeverityNumberError && number <= plog.SeverityNumberError4:
		return levelError
	case number >= plog.SeverityNumberFatal && number <= plog.SeverityNumberFatal4:
		return levelCritical
	}
	return levelFromText(text)
}

// levelFromText understands the usual spellings of the common logging
// libraries; any other non-empty text is passed on in upper case.
func levelFromText(text string) string {
	t := strings.TrimSpace(text)
	if t == "" {
		return ""
	}
	switch strings.ToUpper(t) {
	case "TRACE", "DEBUG", "VERBOSE", "FINE", "FINER", "FINEST":
		return levelDebug
	case "INFO", "INFORMATION", "INFORMATIONAL", "NOTICE":
		return levelInfo
	case "WARN", "WARNING":
		return levelWarning
	case "ERR", "ERROR":
		return levelError
	case "FATAL", "CRITICAL", "CRIT", "PANIC", "ALERT", "EMERGENCY", "EMERG":
		return levelCritical
	default:
		return strings.ToUpper(t)
	}
}
