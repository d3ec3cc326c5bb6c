// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package console

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a Sink that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	records []Record
}

func (r *recorder) Record(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
}

func (*recorder) Idle(time.Time) {}

// captured runs output through a capture as one stream prints it, in
// writes of the given size, and returns what the console showed and the
// records.
func captured(t *testing.T, stream Stream, output string, writeSize int, opts Options) (string, []Record) {
	t.Helper()
	rec := &recorder{}
	c := New(opts, rec)
	pr, pw := io.Pipe()
	var console bytes.Buffer
	c.Copy(stream, pr, &console)
	for b := []byte(output); len(b) > 0; {
		n := min(writeSize, len(b))
		_, err := pw.Write(b[:n])
		require.NoError(t, err)
		b = b[n:]
	}
	require.NoError(t, pw.Close())
	c.Close(context.Background())
	return console.String(), rec.records
}

func bodies(records []Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Body)
	}
	return out
}

// Each golden traceback is what a real interpreter printed
// (testdata/tracebacks/regenerate.sh): it arrives as one record with the
// type and message of the exception that ended the program, between the
// lines around it, which stay lines.
func TestStackTracesBecomeOneRecord(t *testing.T) {
	for file, want := range map[string]Exception{
		"python_simple.txt":  {Type: "FileNotFoundError", Message: "[Errno 2] No such file or directory: '/no/such/file.csv'"},
		"python_chained.txt": {Type: "RuntimeError", Message: "no learning rate configured"},
		"python_cause.txt":   {Type: "DataError", Message: "row 12 is not a number"},
		"python_carets.txt":  {Type: "ZeroDivisionError", Message: "division by zero"},
		"python_group.txt":   {Type: "ExceptionGroup", Message: "2 checks failed (2 sub-exceptions)"},
		"go_panic.txt":       {Type: "runtime.Error", Message: "runtime error: index out of range [3] with length 0"},
		"jvm_trace.txt":      {Type: "java.lang.IllegalStateException", Message: "training failed"},
	} {
		t.Run(file, func(t *testing.T) {
			trace, err := os.ReadFile(filepath.Join("testdata", "tracebacks", file))
			require.NoError(t, err)
			output := "epoch 1 done\n" + string(trace) + "epoch 2 done\n"
			for _, size := range []int{len(output), 7} {
				console, records := captured(t, Stderr, output, size, Options{})
				assert.Equal(t, output, console, "the console shows the same bytes")
				require.Len(t, records, 3, "%q", bodies(records))
				assert.Equal(t, "epoch 1 done", records[0].Body)
				assert.Equal(t, "epoch 2 done", records[2].Body)
				exc := records[1].Exception
				require.NotNil(t, exc)
				assert.Equal(t, want.Type, exc.Type)
				assert.Equal(t, want.Message, exc.Message)
				assert.Equal(t, strings.TrimRight(string(trace), "\n"), exc.Stacktrace)
				assert.Equal(t, exc.Stacktrace, records[1].Body)
			}
		})
	}
}

// logging's default format through a StreamHandler: levels from the
// lines, logger.exception's traceback as its own exception record.
func TestPythonLoggingThroughAStreamHandler(t *testing.T) {
	trace, err := os.ReadFile(filepath.Join("testdata", "tracebacks", "python_logging.txt"))
	require.NoError(t, err)
	_, records := captured(t, Stderr, string(trace), 4096, Options{})
	require.Len(t, records, 4, "%q", bodies(records))
	assert.Equal(t, []string{"WARNING", "ERROR", "ERROR", "ERROR"},
		[]string{records[0].Level.Name, records[1].Level.Name, records[2].Level.Name, records[3].Level.Name})
	assert.Equal(t, "ERROR:train:epoch 3 failed", records[1].Body)
	require.NotNil(t, records[2].Exception)
	assert.Equal(t, "ZeroDivisionError", records[2].Exception.Type)
	assert.Equal(t, "ERROR:train:giving up", records[3].Body)
}

// The launcher README's table of what a line's level is read from.
func TestLevelsFromTheLine(t *testing.T) {
	for line, want := range map[string]string{
		"plain output":                                                         "",
		"Error rate: 0.1":                                                      "",
		"WARNING:root:disk almost full":                                        "WARNING",
		"CRITICAL:train:out of memory":                                         "CRITICAL",
		"2026-01-01 10:00:00,123 ERROR train: bad batch":                       "ERROR",
		"2026-01-01 10:00:00,123 - train - WARNING - lr":                       "",
		"[ERROR] bad batch":                                                    "ERROR",
		"[2026-01-01 10:00:00] [WARNING] slow":                                 "WARNING",
		"ERROR - bad batch":                                                    "ERROR",
		"DEBUG step 3":                                                         "DEBUG",
		"2026/01/01 10:00:00 WARN low disk free=3":                             "WARNING",
		`time=2026-01-01T10:00:00Z level=ERROR msg="bad"`:                      "ERROR",
		"level=warn msg=slow step=3":                                           "WARNING",
		"ts=1 lvl=debug msg=x":                                                 "DEBUG",
		`time=2026-01-01T10:00:00Z level=INFO+2 msg=x`:                         "INFO",
		`{"time":"2026-01-01T10:00:00Z","level":"ERROR","msg":"bad","step":3}`: "ERROR",
		`{"levelname": "WARNING", "message": "slow"}`:                          "WARNING",
		`{"severity": "critical", "event": "oom"}`:                             "CRITICAL",
		`{"level": 50, "msg": "pino error"}`:                                   "ERROR",
		`{"level": "loud", "msg": "unknown level"}`:                            "",
		`{"no": "level"}`:                                                      "",
		"2026-01-01 10:00:00.123 | ERROR    | __main__:<module>:5 - bad":       "ERROR",
		"2026-01-01 10:00:00.123 | SUCCESS  | __main__:<module>:5 - done":      "INFO",
		"2026-01-01 10:00:00.123 | WARNING  | __main__:<module>:5 - slow":      "WARNING",
		"2026-01-01 10:00:00.123 | CRITICAL | __main__:<module>:5 - dead":      "CRITICAL",
	} {
		p := parseLine(line)
		got := ""
		if p.explicit {
			got = p.level.Name
		}
		assert.Equal(t, want, got, line)
	}
}

// Structured lines give their message as the body and their other fields
// as attributes; the time field becomes the record's time.
func TestStructuredLinesGiveMessageAndFields(t *testing.T) {
	p := parseLine(`{"time":"2026-01-01T10:00:00Z","level":"ERROR","msg":"bad batch","step":3,"loss":0.5,"ok":false,"tags":["a"]}`)
	assert.Equal(t, "bad batch", p.body)
	assert.Equal(t, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), p.time)
	got := map[string]string{}
	for _, kv := range p.attrs {
		got[string(kv.Key)] = kv.Value.Emit()
	}
	assert.Equal(t, map[string]string{"step": "3", "loss": "0.5", "ok": "false", "tags": `["a"]`}, got)

	p = parseLine(`time=2026-01-01T10:00:00Z level=WARN msg="slow \"step\"" step=3`)
	assert.Equal(t, `slow "step"`, p.body)
	require.Len(t, p.attrs, 1)
	assert.Equal(t, "step", string(p.attrs[0].Key))
}

// A progress bar redrawn with carriage returns is one record with its
// final text, however many redraws; with ProgressEvery, also its state
// at most that often.
func TestProgressBarsAreNotARecordPerRedraw(t *testing.T) {
	var out strings.Builder
	for i := 0; i <= 100; i++ {
		out.WriteString("\rtraining: " + strings.Repeat("#", i/10) + " " + string(rune('0'+i%10)))
	}
	out.WriteString("\rtraining: done\n")
	console, records := captured(t, Stderr, out.String(), 13, Options{})
	assert.Equal(t, out.String(), console)
	assert.Equal(t, []string{"training: done"}, bodies(records))

	// "\r\n" line endings end a line, they do not empty it.
	_, records = captured(t, Stdout, "one\r\ntwo\r\n", 3, Options{})
	assert.Equal(t, []string{"one", "two"}, bodies(records))
}

func TestProgressEverySendsTheStateWhileItChanges(t *testing.T) {
	s := newSplitter(MaxMessage, time.Second)
	var got []line
	start := time.Now()
	for i := range 50 { // 5 s of redraws, 10 a second
		s.feed([]byte("\r"+strings.Repeat("#", i)), start.Add(time.Duration(i)*100*time.Millisecond), func(l line) { got = append(got, l) })
	}
	s.feed([]byte("\n"), start.Add(5*time.Second), func(l line) { got = append(got, l) })
	require.Len(t, got, 5, "4 states, one a second, and the final text")
	for _, l := range got[:4] {
		assert.True(t, l.redraw)
	}
	assert.Equal(t, strings.Repeat("#", 49), got[4].text)
}

// A line longer than Application Insights' limit is split into parts
// that each fit, marked, and nothing of it is lost; invalid UTF-8 is
// replaced, not dropped.
func TestLongLinesAreSplitAndInvalidUTF8Replaced(t *testing.T) {
	long := strings.Repeat("é", MaxMessage) // 2 bytes each
	_, records := captured(t, Stdout, long+"\nbad \xff byte\n", 1000, Options{})
	require.Len(t, records, 4)
	var joined strings.Builder
	for i, r := range records[:3] {
		assert.LessOrEqual(t, len([]rune(r.Body)), MaxMessage)
		assert.Equal(t, i+1, r.Part)
		joined.WriteString(strings.TrimSuffix(r.Body, continued))
	}
	assert.True(t, strings.HasSuffix(records[0].Body, continued))
	assert.Equal(t, long, joined.String())
	assert.Equal(t, "bad \uFFFD byte", records[3].Body)
}

// A binary stream, with no newline in 4 MiB and every byte value, is shown
// unchanged and captured in bounded parts, without a crash.
func TestABinaryStream(t *testing.T) {
	b := make([]byte, 4<<20)
	for i := range b {
		b[i] = byte(i*7 + i/251)
		if b[i] == '\n' || b[i] == '\r' {
			b[i] = 0
		}
	}
	console, records := captured(t, Stdout, string(b), 64<<10, Options{BufferBytes: 64 << 20})
	assert.Equal(t, string(b), console)
	assert.NotEmpty(t, records)
	for _, r := range records {
		assert.LessOrEqual(t, len([]rune(r.Body)), MaxMessage)
	}
}

// A sink that cannot keep up never slows the stream: what does not fit in
// the buffer is dropped and counted, and the console still shows it all.
func TestASlowSinkNeverBlocksTheStream(t *testing.T) {
	stuck := &blockingSink{release: make(chan struct{})}
	c := New(Options{BufferBytes: 64 << 10}, stuck)
	pr, pw := io.Pipe()
	var console bytes.Buffer
	c.Copy(Stdout, pr, &console)
	line := strings.Repeat("x", 99) + "\n"
	written := make(chan struct{})
	go func() {
		defer close(written)
		for range 100_000 { // 10 MB
			_, _ = pw.Write([]byte(line))
		}
		_ = pw.Close()
	}()
	select {
	case <-written:
	case <-time.After(30 * time.Second):
		t.Fatal("the stream was blocked by a stuck sink")
	}
	close(stuck.release)
	c.Close(context.Background())
	assert.Equal(t, 100_000*len(line), console.Len())
	assert.Greater(t, c.Dropped(), int64(90_000), "most lines dropped")
	assert.Equal(t, int64(100_000), c.Dropped()+stuck.count.Load(), "every line either captured or counted as dropped")
}

// blockingSink takes its first record, then waits for release.
type blockingSink struct {
	release chan struct{}
	count   atomic.Int64
}

func (s *blockingSink) Record(Record) {
	s.count.Add(1)
	<-s.release
}

func (*blockingSink) Idle(time.Time) {}

// A read with more lines than the burst keeps the lines that fit, rather
// than dropping the whole read; each stream has its own bound.
func TestTheRateKeepsTheLinesThatFit(t *testing.T) {
	var out strings.Builder
	for i := range 6000 {
		out.WriteString("line " + strings.Repeat("x", i%7) + "\n")
	}
	rec := &recorder{}
	c := New(Options{LinesPerSecond: 1, Burst: 5000}, rec)
	var console bytes.Buffer
	c.Copy(Stdout, strings.NewReader(out.String()), &console)
	c.Copy(Stderr, strings.NewReader("the crash\n"), io.Discard)
	require.True(t, c.Close(context.Background()))
	assert.Equal(t, out.String(), console.String())
	assert.Len(t, rec.records, 5001, "5 000 stdout lines and stderr's own")
	assert.Equal(t, int64(1000), c.Dropped())
}

// A line redrawn once a progress interval ago, then ended by "\r\n", is
// not sent twice.
func TestARedrawnLineEndedByCRLFIsSentOnce(t *testing.T) {
	s := newSplitter(MaxMessage, time.Second)
	var got []string
	start := time.Now()
	s.feed([]byte("Downloading... done"), start, func(l line) { got = append(got, l.text) })
	s.feed([]byte("\r"), start.Add(2*time.Second), func(l line) { got = append(got, l.text) })
	s.feed([]byte("\n"), start.Add(2*time.Second), func(l line) { got = append(got, l.text) })
	assert.Equal(t, []string{"Downloading... done"}, got)
}

// Indented output after a traceback header is gathered up to a bound,
// then sent, and the rest taken afresh: memory stays bounded.
func TestAStackTraceIsGatheredUpToABound(t *testing.T) {
	output := "Traceback (most recent call last):\n" + strings.Repeat("  File \"x.py\", line 1, in <module>\n", 20000) + "ValueError: x\n"
	_, records := captured(t, Stderr, output, 64<<10, Options{BufferBytes: 64 << 20})
	require.NotEmpty(t, records)
	require.NotNil(t, records[0].Exception)
	assert.LessOrEqual(t, len(records[0].Body), maxBlock)
	assert.Greater(t, len(records), 1, "what came after the bound is not in the first record")
}
