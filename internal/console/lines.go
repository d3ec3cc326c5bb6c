// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package console

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxMessage is Application Insights' limit on a trace's message, in
// characters: a longer line is split into parts no longer than this.
const MaxMessage = 32768

// continued ends every part of a split line but the last.
const continued = " [continued]"

// line is one line a stream printed, as the console shows it last.
type line struct {
	text string
	time time.Time
	// part numbers the parts of a line longer than MaxMessage, from 1;
	// 0 for a line that was not split. last marks the final part.
	part int
	last bool
	// redraw marks an intermediate state of a line still being redrawn
	// with carriage returns (a progress bar), sent every progressEvery.
	redraw bool
}

// splitter cuts a stream into lines. A carriage return starts the line
// over, as a terminal shows it: only the text a line ends with is a line,
// plus its current text every progressEvery while it keeps changing. A
// line is never longer than maxLen bytes (so never more than MaxMessage
// characters): a longer one is split. Its memory is bounded by maxLen
// whatever the stream holds.
type splitter struct {
	maxLen        int
	progressEvery time.Duration

	cur       []byte    // the line's text since the last \r or \n
	prev      []byte    // its text before the last \r
	redrawn   bool      // a \r started the current line over
	started   time.Time // when the current line began
	lastShown time.Time // when the current line was last sent as a redraw
	shown     string    // the text it was sent with
	part      int       // parts of the current line already sent
}

func newSplitter(maxLen int, progressEvery time.Duration) *splitter {
	return &splitter{maxLen: maxLen, progressEvery: progressEvery}
}

// feed cuts chunk, read at now, into lines.
func (s *splitter) feed(chunk []byte, now time.Time, emit func(line)) {
	for len(chunk) > 0 {
		if len(s.cur) == 0 && !s.redrawn && s.part == 0 {
			s.started = now
		}
		i := bytes.IndexAny(chunk, "\r\n")
		if i < 0 {
			s.append(chunk, now, emit)
			return
		}
		s.append(chunk[:i], now, emit)
		if chunk[i] == '\n' {
			s.endLine(now, emit)
		} else {
			s.redraw(now, emit)
		}
		chunk = chunk[i+1:]
	}
}

// append adds text to the current line, sending the parts beyond
// maxLen.
func (s *splitter) append(text []byte, now time.Time, emit func(line)) {
	s.cur = append(s.cur, text...)
	for len(s.cur) > s.maxLen {
		cut := runeBoundary(s.cur, s.maxLen-len(continued))
		s.part++
		emit(line{text: clean(s.cur[:cut]) + continued, time: now, part: s.part})
		s.cur = append(s.cur[:0], s.cur[cut:]...)
		s.prev, s.redrawn = s.prev[:0], false
	}
}

// runeBoundary is the largest n <= max that does not cut a UTF-8
// sequence of b in two.
func runeBoundary(b []byte, max int) int {
	if max >= len(b) {
		return len(b)
	}
	n := max
	for n > 0 && n > max-utf8.UTFMax && !utf8.RuneStart(b[n]) {
		n--
	}
	if !utf8.RuneStart(b[n]) {
		return max // not UTF-8 there: any cut is as good
	}
	return n
}

// redraw handles a carriage return: the line starts over.
func (s *splitter) redraw(now time.Time, emit func(line)) {
	if len(s.cur) == 0 {
		return // "\r\n", or "\r\r": nothing was drawn
	}
	s.prev = append(s.prev[:0], s.cur...)
	s.cur = s.cur[:0]
	s.redrawn = true
	since := s.started
	if s.lastShown.After(since) {
		since = s.lastShown
	}
	if s.progressEvery > 0 && now.Sub(since) >= s.progressEvery {
		s.lastShown, s.shown = now, clean(s.prev)
		emit(line{text: s.shown, time: now, redraw: true})
	}
}

// endLine sends the line a newline ends: its text, or for a line redrawn
// and then ended by "\r\n", the text it showed last.
func (s *splitter) endLine(now time.Time, emit func(line)) {
	text := s.cur
	if len(text) == 0 && s.redrawn {
		text = s.prev
	}
	l := line{text: clean(text), time: now}
	if s.part > 0 {
		l.part, l.last = s.part+1, true
	}
	// A line ended by "\r\n" after its text was sent as a redraw was sent.
	again := len(s.cur) == 0 && s.redrawn && !s.lastShown.IsZero() && l.text == s.shown
	s.cur, s.prev = s.cur[:0], s.prev[:0]
	s.redrawn, s.part, s.lastShown, s.shown = false, 0, time.Time{}, ""
	if !again {
		emit(l)
	}
}

// flush sends what a stream that ended without a newline left.
func (s *splitter) flush(now time.Time, emit func(line)) {
	if len(s.cur) > 0 || s.redrawn || s.part > 0 {
		s.endLine(now, emit)
	}
}

// clean is b as text a record can hold: ANSI escape sequences (colours,
// cursor moves) removed, and invalid UTF-8 replaced with U+FFFD, never
// dropped.
func clean(b []byte) string {
	if bytes.IndexByte(b, 0x1b) >= 0 {
		b = stripANSI(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// stripANSI removes CSI sequences (ESC [ ... final byte) and OSC
// sequences (ESC ] ... BEL or ESC \), and any other ESC pair.
func stripANSI(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0x1b || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		switch b[i+1] {
		case '[':
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			i = j
		case ']':
			j := i + 2
			for j < len(b) && b[j] != 0x07 && !(b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\') {
				j++
			}
			if j < len(b) && b[j] == 0x1b {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return out
}
