// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package console

import (
	"fmt"
	"strings"
	"time"
)

// Exception is a stack trace a step printed: a Python traceback (chained,
// with 3.11's carets, or an ExceptionGroup), a Go panic with its
// goroutine dump, or a JVM stack trace with its causes. Type and Message
// are those of the exception that ended the program: for Python the last
// one printed, for the JVM the first, for Go the panic's value.
type Exception struct {
	Type       string
	Message    string
	Stacktrace string
}

// blockKind is the kind of stack trace being gathered.
type blockKind int8

const (
	noBlock blockKind = iota
	pythonBlock
	goBlock
	jvmBlock
	jvmMaybe // a line that names an exception class, before its first "\tat"
)

// pythonState is where in a traceback the grouper is.
type pythonState int8

const (
	pyFrames    pythonState = iota // after "Traceback (most recent call last):"
	pyGroup                        // inside an ExceptionGroup's box
	pyException                    // after the exception's own line
	pyBlank                        // after the blank line that may precede a chain
	pyChained                      // after "During handling ..." or "The above ..."
)

// The sentences with which Python chains one traceback to the next.
const (
	pyHeader      = "Traceback (most recent call last):"
	pyGroupHeader = "+ Exception Group Traceback (most recent call last):"
	pyContext     = "During handling of the above exception, another exception occurred:"
	pyCause       = "The above exception was the direct cause of the following exception:"
)

// maxBlock bounds a stack trace's text; a longer one is cut, keeping its
// head and its tail, where Python puts the exception. A block that grows
// past maxGathered is sent as it is, and what follows is taken afresh:
// the grouper's memory is bounded whatever the step prints.
const (
	maxBlock    = 32768
	maxGathered = 4 * maxBlock
)

// blockIdle is how long a finished-looking block waits for the line that
// would continue it (a chained traceback's blank line and sentence, the
// next "\tat") before it is sent; interpreters write a trace in one go.
const blockIdle = 250 * time.Millisecond

// grouper gathers the lines of one stream into stack traces: each block
// becomes one record with its exception, every other line is passed on.
type grouper struct {
	onLine  func(line)
	onBlock func(Exception, time.Time)

	kind  blockKind
	py    pythonState
	lines []string
	size  int // bytes in lines
	start time.Time
	last  time.Time
	exc   Exception
	held  []line // looked at, not part of the block (yet)
}

func newGrouper(onLine func(line), onBlock func(Exception, time.Time)) *grouper {
	return &grouper{onLine: onLine, onBlock: onBlock}
}

// push takes the stream's next line.
func (g *grouper) push(l line) {
	if l.part > 0 || l.redraw {
		g.end()
		g.onLine(l)
		return
	}
	if g.size > maxGathered {
		g.end()
	}
	g.last = l.time
	switch g.kind {
	case noBlock:
		g.begin(l)
	case pythonBlock:
		g.python(l)
	case goBlock:
		g.goPanic(l)
	case jvmBlock, jvmMaybe:
		g.jvm(l)
	}
}

// begin starts a block with l, or passes l on.
func (g *grouper) begin(l line) {
	t := l.text
	switch {
	case t == pyHeader:
		g.open(pythonBlock, l)
		g.py = pyFrames
	case strings.TrimLeft(t, " ") == pyGroupHeader:
		g.open(pythonBlock, l)
		g.py = pyGroup
	case strings.HasPrefix(t, "panic: ") || strings.HasPrefix(t, "fatal error: "):
		g.open(goBlock, l)
		g.exc.Type, g.exc.Message = goPanicOf(t)
	case strings.HasPrefix(t, `Exception in thread "`):
		g.open(jvmBlock, l)
		if _, rest, ok := strings.Cut(t[len(`Exception in thread "`):], `" `); ok {
			g.exc.Type, g.exc.Message = typeAndMessage(rest)
		}
	case isJVMExceptionLine(t):
		g.open(jvmMaybe, l)
		g.exc.Type, g.exc.Message = typeAndMessage(t)
	default:
		g.onLine(l)
	}
}

func (g *grouper) open(kind blockKind, l line) {
	g.kind, g.start, g.exc = kind, l.time, Exception{}
	g.lines, g.size = append(g.lines[:0], l.text), len(l.text)
}

func (g *grouper) add(text string) {
	g.lines = append(g.lines, text)
	g.size += len(text) + 1
}

// python follows a traceback: frames are indented, the exception's line
// is not, and a blank line and one of Python's sentences chain the next.
func (g *grouper) python(l line) {
	t := l.text
	indented := strings.HasPrefix(t, " ") || strings.HasPrefix(t, "\t")
	switch g.py {
	case pyFrames:
		switch {
		case indented:
			g.add(t)
		case t == "":
			g.finish(l)
		default:
			g.add(t)
			g.exc.Type, g.exc.Message = typeAndMessage(t)
			g.py = pyException
		}
	case pyGroup:
		switch {
		case indented:
			g.add(t)
			if g.exc.Type == "" {
				if rest, ok := strings.CutPrefix(t, "  | "); ok && isPythonExceptionLine(rest) {
					g.exc.Type, g.exc.Message = typeAndMessage(rest)
				}
			}
		case t == "":
			g.held = append(g.held, l)
			g.py = pyBlank
		default:
			g.finish(l)
		}
	case pyException:
		if t == "" {
			g.held = append(g.held, l)
			g.py = pyBlank
			return
		}
		g.finish(l)
	case pyBlank:
		if t == pyContext || t == pyCause {
			g.takeHeld()
			g.add(t)
			g.py = pyChained
			return
		}
		g.finish(l)
	case pyChained:
		switch {
		case t == "":
			g.add(t)
		case t == pyHeader:
			g.add(t)
			g.py = pyFrames
		case strings.TrimLeft(t, " ") == pyGroupHeader:
			g.add(t)
			g.exc = Exception{}
			g.py = pyGroup
		default:
			g.finish(l)
		}
	}
}

// goPanic follows a panic and its goroutine dump.
func (g *grouper) goPanic(l line) {
	t := l.text
	switch {
	case t == "", strings.HasPrefix(t, "\t"), strings.HasPrefix(t, "goroutine "),
		strings.HasPrefix(t, "created by "), strings.HasPrefix(t, "[signal "),
		strings.HasPrefix(t, "exit status "), strings.HasPrefix(t, "panic: "),
		strings.HasPrefix(t, "..."), isGoFrame(t):
		g.add(t)
	default:
		g.finish(l)
	}
}

// jvm follows a JVM stack trace: frames and causes are indented with a
// tab, or start with "Caused by: ".
func (g *grouper) jvm(l line) {
	t := l.text
	if strings.HasPrefix(t, "\t") || strings.HasPrefix(t, "Caused by: ") {
		if g.kind == jvmMaybe && !strings.HasPrefix(t, "\tat ") {
			g.finish(l)
			return
		}
		g.kind = jvmBlock
		g.add(t)
		return
	}
	g.finish(l)
}

// finish ends the block before l, then takes l afresh.
func (g *grouper) finish(l line) {
	g.end()
	g.begin(l)
}

// takeHeld moves the held lines into the block.
func (g *grouper) takeHeld() {
	for _, h := range g.held {
		g.add(h.text)
	}
	g.held = g.held[:0]
}

// end sends the block being gathered, if any, and the lines held after it.
func (g *grouper) end() {
	switch g.kind {
	case noBlock:
	case jvmMaybe:
		// A line that named an exception class, and no frame followed.
		g.onLine(line{text: g.lines[0], time: g.start})
	default:
		g.exc.Stacktrace = capBlock(strings.Join(g.lines, "\n"))
		if g.exc.Type == "" {
			g.exc.Type = "Traceback"
		}
		g.onBlock(g.exc, g.start)
	}
	g.kind, g.lines, g.size, g.exc = noBlock, g.lines[:0], 0, Exception{}
	held := g.held
	g.held = nil
	for _, h := range held {
		g.begin(h)
	}
}

// idle sends a block that has waited blockIdle for its next line: it is
// complete.
func (g *grouper) idle(now time.Time) {
	if g.kind != noBlock && now.Sub(g.last) >= blockIdle {
		g.end()
	}
}

// capBlock keeps a stack trace within maxBlock: its head, and its tail,
// which holds Python's exception line.
func capBlock(s string) string {
	if len(s) <= maxBlock {
		return s
	}
	const head = maxBlock / 4
	marker := fmt.Sprintf("\n... [%d bytes elided] ...\n", len(s)-maxBlock+64)
	tail := maxBlock - head - len(marker)
	return clean([]byte(s[:head] + marker + s[len(s)-tail:]))
}

// typeAndMessage splits "Type: message" (Python's and the JVM's exception
// lines); a line without ": " is all type (KeyboardInterrupt).
func typeAndMessage(s string) (string, string) {
	typ, msg, _ := strings.Cut(strings.TrimSpace(s), ": ")
	return typ, msg
}

// isPythonExceptionLine: "ValueError: ...", "mod.CustomError".
func isPythonExceptionLine(s string) bool {
	typ, _, _ := strings.Cut(s, ": ")
	return typ != "" && !strings.HasPrefix(typ, "File ") && isDottedName(typ)
}

// isJVMExceptionLine: a fully qualified class named ...Exception,
// ...Error or ...Throwable at the start of a line, alone or with ": msg".
func isJVMExceptionLine(s string) bool {
	typ, _, _ := strings.Cut(s, ": ")
	if !strings.Contains(typ, ".") || !isDottedName(typ) {
		return false
	}
	return strings.HasSuffix(typ, "Exception") || strings.HasSuffix(typ, "Error") || strings.HasSuffix(typ, "Throwable")
}

func isDottedName(s string) bool {
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' || c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return s != ""
}

// isGoFrame: a frame's function line in a goroutine dump, such as
// "main.main()", "main.(*Trainer).step(0xc000012345)" or
// "panic({0x4a1b20?, 0xc000012345?})".
func isGoFrame(s string) bool {
	open := strings.IndexByte(s, '(')
	return open > 0 && strings.HasSuffix(s, ")") && !strings.ContainsAny(s[:open], " \t")
}

// goPanicOf names a Go crash: runtime errors are runtime.Error, the rest
// is a panic or a fatal error, with the value's text as its message.
func goPanicOf(s string) (string, string) {
	if msg, ok := strings.CutPrefix(s, "fatal error: "); ok {
		return "fatal error", msg
	}
	msg := strings.TrimSuffix(strings.TrimPrefix(s, "panic: "), " [recovered]")
	if strings.HasPrefix(msg, "runtime error: ") {
		return "runtime.Error", msg
	}
	return "panic", msg
}
