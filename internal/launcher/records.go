// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
)

// maxHeld bounds the records waiting out the duplicate window; beyond it,
// the oldest go out early.
const maxHeld = 50_000

// recordSink turns the step's captured output into log records in the
// step's trace. With a seen index (--capture=auto), each record first
// waits hold for the step's own SDK to send the same line: a line that
// it sent is not sent again.
type recordSink struct {
	tel  *stepTelemetry
	seen *seenIndex // nil: every line is sent
	hold time.Duration

	held []heldRecord

	mu         sync.Mutex // counts, read by the summary
	counts     map[string]int64
	duplicates int64
}

type heldRecord struct {
	record console.Record
	until  time.Time
}

func newRecordSink(tel *stepTelemetry, seen *seenIndex, hold time.Duration) *recordSink {
	return &recordSink{tel: tel, seen: seen, hold: hold, counts: map[string]int64{}}
}

// Record takes one captured record.
func (s *recordSink) Record(r console.Record) {
	if s.seen == nil {
		s.send(r)
		return
	}
	now := time.Now()
	s.held = append(s.held, heldRecord{record: r, until: now.Add(s.hold)})
	s.release(now, false)
}

// Idle sends the held records whose window has passed, and a batch that
// has waited long enough.
func (s *recordSink) Idle(now time.Time) {
	s.release(now, false)
	s.tel.batch.flushIfDue(now)
}

// drain sends every held record that the step's SDK did not send: the
// step has ended, and what its SDK sent is in.
func (s *recordSink) drain() {
	s.release(time.Now(), true)
}

func (s *recordSink) release(now time.Time, all bool) {
	n := 0
	for ; n < len(s.held); n++ {
		h := s.held[n]
		if !all && now.Before(h.until) && len(s.held)-n <= maxHeld {
			break
		}
		if s.seen.take(h.record) {
			s.mu.Lock()
			s.duplicates++
			s.mu.Unlock()
			continue
		}
		s.send(h.record)
	}
	if n > 0 {
		clear(s.held[:n])
		s.held = s.held[n:]
	}
}

// send emits r as a log record: log.iostream, the level as the severity
// and Python's level name as its text, a structured line's fields, and a
// stack trace's exception.* attributes, which the exporter sends to the
// exceptions table.
func (s *recordSink) send(r console.Record) {
	var rec log.Record
	rec.SetTimestamp(r.Time)
	rec.SetObservedTimestamp(time.Now())
	rec.SetSeverity(r.Level.Severity)
	rec.SetSeverityText(r.Level.Name)
	rec.SetBody(attribute.StringValue(r.Body))
	rec.AddAttributes(attribute.String("log.iostream", r.Stream.String()))
	if r.Part > 0 {
		rec.AddAttributes(attribute.Int("log.record.part", r.Part))
	}
	if e := r.Exception; e != nil {
		rec.AddAttributes(
			attribute.String("exception.type", e.Type),
			attribute.String("exception.message", e.Message),
			attribute.String("exception.stacktrace", e.Stacktrace),
		)
	}
	rec.AddAttributes(r.Attributes...)
	s.tel.emit(rec)
	s.mu.Lock()
	s.counts[r.Level.Name]++
	s.mu.Unlock()
}

type levelCount struct {
	name  string
	count int64
}

// levels are the records sent per level, in increasing severity.
func (s *recordSink) levels() []levelCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]levelCount, 0, len(console.Levels))
	for _, l := range console.Levels {
		out = append(out, levelCount{l.Name, s.counts[l.Name]})
	}
	return out
}

// summary is the step summary's text, which is also the launcher's last
// line on stderr when something was lost.
func (s *recordSink) summary(o stepOutcome, dropped, undelivered int64, delivered bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %s: exit %d after %s;", o.result, o.code, o.duration.Round(time.Millisecond))
	for _, l := range s.levels() {
		fmt.Fprintf(&b, " %s %d", l.name, l.count)
	}
	fmt.Fprintf(&b, "; dropped %d", dropped)
	if s.duplicates > 0 {
		fmt.Fprintf(&b, "; %d lines the step's SDK sent itself", s.duplicates)
	}
	switch {
	case delivered:
		b.WriteString("; flushed")
	case undelivered > 0:
		fmt.Fprintf(&b, "; %d records NOT delivered to the collector", undelivered)
	default:
		b.WriteString("; NOT all flushed to the collector")
	}
	return b.String()
}
