// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package console turns what a step prints into log records, without
// changing what the step's console shows.
//
// Each stream is copied to the launcher's own stdout or stderr as it is
// read, byte for byte, and only then handed to the capture. A bounded
// buffer sits between the two: when the records cannot be sent as fast
// as the step prints (the collector is slow, stuck or gone), what does
// not fit is dropped and counted, and the step's writes never wait.
//
// The capture cuts each stream into lines (lines.go: carriage returns,
// long lines, invalid UTF-8), reads each line's level (level.go), and
// gathers stack traces into one record each (exception.go).
package console // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/console"

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"golang.org/x/time/rate"
)

// Stream is stdout or stderr.
type Stream int8

const (
	Stdout Stream = iota
	Stderr
)

// String is the stream's log.iostream value.
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// defaultLevel is what a stream's lines are when they do not say.
func (s Stream) defaultLevel() Level {
	if s == Stderr {
		return Warning
	}
	return Info
}

// Record is one record of what the step printed: a line, a part of a
// long line, or a stack trace.
type Record struct {
	Time   time.Time
	Stream Stream
	Level  Level
	// Body is the line as printed (without colours), or a structured
	// line's message; for an exception, the whole stack trace.
	Body string
	// Attributes are a structured line's other fields.
	Attributes []attribute.KeyValue
	// Exception is set for a stack trace.
	Exception *Exception
	// Part numbers the parts of a line split at MaxMessage, from 1.
	Part int
}

// Options tune the capture.
type Options struct {
	// BufferBytes bounds what is read and not yet turned into records,
	// per stream; beyond it, what the step prints is dropped (and still
	// shown).
	BufferBytes int
	// LinesPerSecond and Burst bound the rate of captured lines, per
	// stream: a step may print Burst lines at once, and LinesPerSecond for
	// as long as it likes; what it prints beyond is dropped and counted
	// (and shown). A flood of lines would otherwise take the step's CPU
	// for records nobody reads. LinesPerSecond 0 sets no bound.
	LinesPerSecond float64
	Burst          int
	// ProgressEvery is how often a line that keeps being redrawn with
	// carriage returns (a progress bar) is sent with its current text;
	// 0 sends only the text it ends with.
	ProgressEvery time.Duration
}

// Sink takes the records, one at a time, from one goroutine. Idle is
// called when no output is waiting, so that it can send what it holds.
type Sink interface {
	Record(Record)
	Idle(now time.Time)
}

// Capture copies a step's streams to the console and its records to a
// Sink.
type Capture struct {
	opts    Options
	sink    Sink
	queue   *queue
	readers sync.WaitGroup
	done    chan struct{}

	limits   [2]*rate.Limiter // per stream; nil: no bound
	dropped  atomic.Int64     // lines
	lastRead [2]atomic.Int64  // unix nanoseconds of each stream's last read
	abandon  atomic.Bool      // Close gave up: the consumer stops
}

// New returns a capture sending to sink; Start it with each stream.
func New(opts Options, sink Sink) *Capture {
	if opts.BufferBytes <= 0 {
		opts.BufferBytes = 8 << 20
	}
	c := &Capture{opts: opts, sink: sink, queue: newQueue(), done: make(chan struct{})}
	if opts.LinesPerSecond > 0 {
		for i := range c.limits {
			c.limits[i] = rate.NewLimiter(rate.Limit(opts.LinesPerSecond), max(opts.Burst, 1))
		}
	}
	go c.consume()
	return c
}

// Copy reads src, one of the step's streams, until it ends, writing each
// read to console at once and capturing it. It runs in its own goroutine.
func (c *Capture) Copy(stream Stream, src io.Reader, console io.Writer) {
	c.readers.Add(1)
	go func() {
		defer c.readers.Done()
		defer c.queue.push(chunk{stream: stream, eof: true})
		buf := make([]byte, readSize)
		var consoleBroken bool
		for {
			n, err := src.Read(buf)
			if n > 0 {
				data := buf[:n]
				if !consoleBroken {
					// The console is the step's: a console that went away
					// is no reason to stop reading (and block the step).
					_, werr := console.Write(data)
					consoleBroken = werr != nil
				}
				c.capture(stream, data)
			}
			if err != nil {
				return
			}
		}
	}()
}

// capture queues a copy of data, or of as many of its lines as the rate
// allows, or drops it when the buffer is full.
func (c *Capture) capture(stream Stream, data []byte) {
	now := time.Now()
	c.lastRead[stream].Store(now.UnixNano())
	lines := bytes.Count(data, []byte{'\n'})
	if limit := c.limits[stream]; limit != nil {
		allowed := min(max(lines, 1), int(limit.TokensAt(now)))
		if allowed <= 0 || !limit.AllowN(now, allowed) {
			c.queue.markGap(stream)
			c.dropped.Add(int64(lines))
			return
		}
		if allowed < lines {
			// The first lines fit: keep them, up to their newline.
			cut := 0
			for range allowed {
				cut += bytes.IndexByte(data[cut:], '\n') + 1
			}
			c.dropped.Add(int64(lines - allowed))
			defer c.queue.markGap(stream)
			data, lines = data[:cut], allowed
		}
	}
	if !c.queue.tryPush(chunk{stream: stream, data: bytes.Clone(data), time: now}, c.opts.BufferBytes) {
		c.dropped.Add(int64(lines))
	}
}

// LastRead is when the step last printed anything.
func (c *Capture) LastRead() time.Time {
	return time.Unix(0, max(c.lastRead[Stdout].Load(), c.lastRead[Stderr].Load()))
}

// readSize is the most one read of a stream takes: large, so that a step
// printing fast is read in few calls.
const readSize = 256 << 10

// Close waits until the streams have ended and every record has gone to
// the sink, or until ctx ends: then what is still queued is dropped
// (counted), the record the sink is sending finishes, and Close returns
// false.
func (c *Capture) Close(ctx context.Context) bool {
	readers := make(chan struct{})
	go func() {
		c.readers.Wait()
		close(readers)
	}()
	select {
	case <-readers:
	case <-ctx.Done():
	}
	c.queue.push(chunk{closing: true})
	select {
	case <-c.done:
		return true
	case <-ctx.Done():
		c.abandon.Store(true)
		c.queue.signal()
		<-c.done
		return false
	}
}

// Dropped is the number of lines dropped because the buffer was full: the
// newlines in what was dropped. A line cut by a drop sends what is left
// of it.
func (c *Capture) Dropped() int64 { return c.dropped.Load() }

// consume turns queued output into records, in order per stream.
func (c *Capture) consume() {
	defer close(c.done)
	streams := [2]*streamState{c.newStream(Stdout), c.newStream(Stderr)}
	idle := time.NewTicker(blockIdle / 2)
	defer idle.Stop()
	for {
		if c.abandon.Load() {
			c.dropped.Add(c.queue.dropAll())
			return
		}
		ch, ok := c.queue.pop()
		if !ok {
			// Nothing waiting: send the blocks that are complete, and let
			// the sink send what it holds.
			select {
			case <-c.queue.ready:
			case now := <-idle.C:
				for _, s := range streams {
					s.group.idle(now)
				}
				c.sink.Idle(now)
			}
			continue
		}
		if ch.closing {
			c.sink.Idle(time.Now())
			return
		}
		s := streams[ch.stream]
		if ch.gap {
			// Output was dropped before this chunk: what was gathered is
			// sent as it is, and the start of this chunk belongs to a line
			// that was cut.
			s.lines.flush(ch.time, s.group.push)
			s.group.end()
		}
		if ch.eof {
			s.lines.flush(time.Now(), s.group.push)
			s.group.end()
			continue
		}
		s.lines.feed(ch.data, ch.time, s.group.push)
	}
}

// streamState is one stream's line splitter and stack-trace grouper.
type streamState struct {
	lines *splitter
	group *grouper
}

func (c *Capture) newStream(stream Stream) *streamState {
	s := &streamState{lines: newSplitter(MaxMessage, c.opts.ProgressEvery)}
	s.group = newGrouper(
		func(l line) { c.line(stream, l) },
		func(e Exception, at time.Time) {
			level := Error
			if e.Type == "panic" || e.Type == "runtime.Error" || e.Type == "fatal error" {
				level = Critical
			}
			c.sink.Record(Record{Time: at, Stream: stream, Level: level, Body: e.Stacktrace, Exception: &e})
		},
	)
	return s
}

// line sends one line that is not part of a stack trace. Blank lines are
// not records.
func (c *Capture) line(stream Stream, l line) {
	if strings.TrimSpace(l.text) == "" {
		return
	}
	p := parseLine(l.text)
	r := Record{Time: l.time, Stream: stream, Level: stream.defaultLevel(), Body: p.body, Attributes: p.attrs, Part: l.part}
	if p.explicit {
		r.Level = p.level
	}
	if !p.time.IsZero() {
		r.Time = p.time
	}
	c.sink.Record(r)
}

// chunk is one read of a stream, or a marker.
type chunk struct {
	stream  Stream
	data    []byte
	time    time.Time
	gap     bool // output was dropped before this chunk
	eof     bool // the stream ended
	closing bool // both streams ended: the consumer stops
}

// queue is the bounded buffer between the streams and the consumer.
type queue struct {
	mu     sync.Mutex
	chunks []chunk
	bytes  [2]int
	gap    [2]bool
	ready  chan struct{} // signalled when a chunk arrives
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

// tryPush queues ch unless that would exceed limit bytes.
func (q *queue) tryPush(ch chunk, limit int) bool {
	q.mu.Lock()
	if q.bytes[ch.stream]+len(ch.data) > limit {
		q.gap[ch.stream] = true
		q.mu.Unlock()
		return false
	}
	ch.gap, q.gap[ch.stream] = q.gap[ch.stream], false
	q.chunks = append(q.chunks, ch)
	q.bytes[ch.stream] += len(ch.data)
	q.mu.Unlock()
	q.signal()
	return true
}

// markGap notes that output of stream was dropped before its next chunk.
func (q *queue) markGap(stream Stream) {
	q.mu.Lock()
	q.gap[stream] = true
	q.mu.Unlock()
}

// push queues a marker, whatever the buffer holds.
func (q *queue) push(ch chunk) {
	q.mu.Lock()
	q.chunks = append(q.chunks, ch)
	q.mu.Unlock()
	q.signal()
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) pop() (chunk, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.chunks) == 0 {
		return chunk{}, false
	}
	ch := q.chunks[0]
	q.chunks[0] = chunk{}
	q.chunks = q.chunks[1:]
	q.bytes[ch.stream] -= len(ch.data)
	return ch, true
}

// dropAll empties the queue and returns the lines it held.
func (q *queue) dropAll() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var lines int64
	for _, ch := range q.chunks {
		lines += int64(bytes.Count(ch.data, []byte{'\n'}))
	}
	q.chunks, q.bytes = nil, [2]int{}
	return lines
}
