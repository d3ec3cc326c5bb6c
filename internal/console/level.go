// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package console

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// A Level is a Python logging level name, which Application Insights
// users query as customDimensions.Level, with its OpenTelemetry severity.
type Level struct {
	Name     string
	Severity log.Severity
}

// The levels, in increasing severity.
var (
	Debug    = Level{"DEBUG", log.SeverityDebug}
	Info     = Level{"INFO", log.SeverityInfo}
	Warning  = Level{"WARNING", log.SeverityWarn}
	Error    = Level{"ERROR", log.SeverityError}
	Critical = Level{"CRITICAL", log.SeverityFatal}
)

// Levels lists the levels in increasing severity.
var Levels = []Level{Debug, Info, Warning, Error, Critical}

// levelWords maps how logging libraries write a level to the level. In
// the free-text layouts only upper-case words count (every library
// listed writes them so), so that "Error rate: 0" stays at the stream's
// level; structured fields (level=error, "level":"warn") are read in any
// case.
var levelWords = map[string]Level{
	"TRACE": Debug, "DEBUG": Debug, "DBG": Debug, "VERBOSE": Debug, "FINE": Debug,
	"INFO": Info, "INF": Info, "NOTICE": Info, "SUCCESS": Info,
	"WARN": Warning, "WARNING": Warning, "WRN": Warning,
	"ERROR": Error, "ERR": Error, "EXCEPTION": Error, "SEVERE": Error,
	"CRITICAL": Critical, "FATAL": Critical, "PANIC": Critical, "CRIT": Critical, "FTL": Critical,
}

// slogOffset reads Go log/slog's levels between the named ones:
// "INFO+2", "WARN-4", "ERROR+8".
func levelOf(word string, anyCase bool) (Level, bool) {
	if anyCase {
		word = strings.ToUpper(word)
	}
	if l, ok := levelWords[word]; ok {
		return l, true
	}
	if i := strings.LastIndexAny(word, "+-"); i > 0 {
		if _, err := strconv.Atoi(word[i:]); err == nil {
			l, ok := levelWords[word[:i]]
			return l, ok
		}
	}
	return Level{}, false
}

// parsed is what a line says about itself.
type parsed struct {
	body  string
	level Level
	// explicit is true when the line names its level; otherwise level is
	// left for the stream's default.
	explicit bool
	time     time.Time
	attrs    []attribute.KeyValue
}

// messageKeys and levelKeys are the fields structured lines (JSON,
// logfmt) carry their message and level in, by precedence.
var (
	messageKeys = []string{"message", "msg", "event"}
	levelKeys   = []string{"level", "severity", "levelname", "lvl"}
	timeKeys    = []string{"time", "timestamp", "ts", "@timestamp", "asctime"}
)

// parseLine reads a line's level, and for a structured line its message
// and fields. The table is the launcher's README's.
func parseLine(text string) parsed {
	if p, ok := parseJSON(text); ok {
		return p
	}
	if p, ok := parseLogfmt(text); ok {
		return p
	}
	p := parsed{body: text}
	p.level, p.explicit = levelWordOf(text)
	return p
}

// parseJSON reads a JSON object line with a level field: Go's slog JSON
// handler, structlog, python-json-logger, bunyan, pino, zap, logrus.
func parseJSON(text string) (parsed, bool) {
	t := strings.TrimSpace(text)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return parsed{}, false
	}
	var fields map[string]any
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	if dec.Decode(&fields) != nil {
		return parsed{}, false
	}
	return structured(text, fields)
}

// structured reads a structured line's fields (JSON or logfmt): its
// level, message and time from the keys the libraries use, the rest as
// attributes. false when no field names a level.
func structured(text string, fields map[string]any) (parsed, bool) {
	lk, lv := firstField(fields, levelKeys)
	if lk == "" {
		return parsed{}, false
	}
	p := parsed{body: text}
	switch v := lv.(type) {
	case string:
		p.level, p.explicit = levelOf(v, true)
	case json.Number: // bunyan and pino: 10 trace ... 60 fatal
		p.level, p.explicit = numericLevel(v)
	}
	if !p.explicit {
		return parsed{}, false
	}
	delete(fields, lk)
	if mk, mv := firstField(fields, messageKeys); mk != "" {
		if s, ok := mv.(string); ok {
			p.body = s
			delete(fields, mk)
		}
	}
	if tk, tv := firstField(fields, timeKeys); tk != "" {
		if s, ok := tv.(string); ok {
			if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
				p.time = ts
				delete(fields, tk)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		p.attrs = append(p.attrs, attribute.KeyValue{Key: attribute.Key(k), Value: jsonValue(fields[k])})
	}
	return p, true
}

func numericLevel(n json.Number) (Level, bool) {
	v, err := n.Int64()
	if err != nil {
		return Level{}, false
	}
	switch {
	case v < 30:
		return Debug, true
	case v < 40:
		return Info, true
	case v < 50:
		return Warning, true
	case v < 60:
		return Error, true
	default:
		return Critical, true
	}
}

func firstField(fields map[string]any, keys []string) (string, any) {
	for _, k := range keys {
		if v, ok := fields[k]; ok {
			return k, v
		}
	}
	return "", nil
}

// jsonValue is a JSON field as an attribute: strings, numbers and
// booleans as themselves, objects and arrays as their JSON text (which
// Application Insights shows as a customDimensions string anyway).
func jsonValue(v any) attribute.Value {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v)
	case bool:
		return attribute.BoolValue(v)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return attribute.Int64Value(i)
		}
		f, _ := v.Float64()
		return attribute.Float64Value(f)
	case nil:
		return attribute.StringValue("")
	default:
		b, _ := json.Marshal(v)
		return attribute.StringValue(string(b))
	}
}

// parseLogfmt reads a logfmt line with a level (level=error), as Go's
// slog text handler, logrus and go-kit write them.
func parseLogfmt(text string) (parsed, bool) {
	if !strings.Contains(text, "level=") && !strings.Contains(text, "lvl=") {
		return parsed{}, false
	}
	pairs, ok := logfmtPairs(text)
	if !ok {
		return parsed{}, false
	}
	fields := make(map[string]any, len(pairs))
	for _, kv := range pairs {
		if _, dup := fields[kv[0]]; !dup {
			fields[kv[0]] = kv[1]
		}
	}
	return structured(text, fields)
}

// logfmtPairs splits key=value pairs, values bare or double-quoted with
// Go's escapes; false when the line is not logfmt.
func logfmtPairs(s string) ([][2]string, bool) {
	var pairs [][2]string
	for s = strings.TrimLeft(s, " "); s != ""; s = strings.TrimLeft(s, " ") {
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexByte(s, ' ')
		if eq <= 0 || (sp >= 0 && sp < eq) {
			return nil, false
		}
		key := s[:eq]
		s = s[eq+1:]
		var value string
		if strings.HasPrefix(s, `"`) {
			end := closingQuote(s)
			if end < 0 {
				return nil, false
			}
			v, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return nil, false
			}
			value, s = v, s[end+1:]
		} else if sp := strings.IndexByte(s, ' '); sp >= 0 {
			value, s = s[:sp], s[sp:]
		} else {
			value, s = s, ""
		}
		pairs = append(pairs, [2]string{key, value})
	}
	return pairs, len(pairs) > 0
}

func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// levelWordOf finds the level a free-text line names near its start, as
// the common layouts put it: "WARNING:root:msg" (Python's default),
// "2026-01-01 10:00:00,123 ERROR name: msg", "[ERROR] msg", "ERROR - msg",
// "2026/01/01 10:00:00 WARN msg", loguru's
// "2026-01-01 10:00:00.123 | ERROR    | module:fn:1 - msg". A level word
// is upper case, stands alone (bracketed, or followed by a space, a
// colon, a dash or a bar), and comes first or after at most three
// timestamp tokens (tokens that start with a digit).
func levelWordOf(text string) (Level, bool) {
	s := text
	for range 4 {
		s = strings.TrimLeft(s, " \t|[(")
		if s == "" {
			return Level{}, false
		}
		end := 0
		for end < len(s) && s[end] >= 'A' && s[end] <= 'Z' {
			end++
		}
		if end >= 3 && (end == len(s) || isLevelDelimiter(s[end])) {
			if l, ok := levelWords[s[:end]]; ok {
				return l, true
			}
		}
		// Skip one token that a level may follow: a timestamp, a date, a
		// time, a process id; anything else ends the search.
		if !startsTimestampLike(s) {
			return Level{}, false
		}
		sp := strings.IndexAny(s, " \t")
		if sp < 0 {
			return Level{}, false
		}
		s = s[sp:]
	}
	return Level{}, false
}

func isLevelDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', ':', ']', ')', '|', '-', ',':
		return true
	}
	return false
}

// startsTimestampLike: a token of digits and the punctuation of dates
// and times.
func startsTimestampLike(s string) bool {
	return len(s) > 0 && s[0] >= '0' && s[0] <= '9'
}
