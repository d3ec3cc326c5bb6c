// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"fmt"
	"strings"
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber   // 12, 1.5, 1e3
	tokTimespan // 7d, 30m, 100ms
	tokLiteral  // datetime(...), timespan(...), time(...), dynamic(...): the text between the parentheses
	tokPunct    // operators and punctuation
)

type token struct {
	kind tokenKind
	text string // identifier, punctuation, number text; a string's value; a literal's inner text
	lit  string // for tokLiteral, the literal's kind (datetime, timespan, dynamic)
	pos  int    // byte offset in the query
	end  int
}

// Error is a query the engine refuses: where, and why.
type Error struct {
	Pos     int    // byte offset in the query
	Line    int    // 1-based
	Column  int    // 1-based
	Message string // names the operator or function
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Message)
}

func errorAt(query string, pos int, format string, args ...any) *Error {
	if pos > len(query) {
		pos = len(query)
	}
	line := 1 + strings.Count(query[:pos], "\n")
	col := pos - strings.LastIndex(query[:pos], "\n")
	return &Error{Pos: pos, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// maxTokens bounds a query's length, and so how deep its syntax tree can
// grow through chains of operators.
const maxTokens = 100_000

// punctuation, longest first.
var punctuation = []string{"==", "!=", "=~", "!~", "<=", ">=", "=>", "..", "<", ">", "=", "+", "-", "*", "/", "%", "|", "(", ")", "[", "]", "{", "}", ",", ";", ".", ":", "!", "~", "$", "@"}

// literalKinds are the names whose parenthesised text is a literal.
var literalKinds = map[string]bool{"datetime": true, "timespan": true, "time": true, "dynamic": true, "bool": true, "boolean": true, "long": true, "int": true, "real": true, "double": true, "guid": true}

func lex(query string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(query) {
		c := query[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(query) && query[i+1] == '/':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case c == '\'' || c == '"' || (c == '@' && i+1 < len(query) && (query[i+1] == '\'' || query[i+1] == '"')) ||
			((c == 'h' || c == 'H') && i+1 < len(query) && (query[i+1] == '\'' || query[i+1] == '"')):
			start := i
			verbatim := c == '@'
			if c == '@' || c == 'h' || c == 'H' {
				i++
			}
			s, n, err := readString(query, i, verbatim)
			if err != nil {
				return nil, err
			}
			i = n
			toks = append(toks, token{kind: tokString, text: s, pos: start, end: i})
		case c >= '0' && c <= '9':
			start := i
			for i < len(query) && (isDigit(query[i]) || query[i] == '.' && i+1 < len(query) && isDigit(query[i+1])) {
				i++
			}
			if i < len(query) && (query[i] == 'e' || query[i] == 'E') && i+1 < len(query) && (isDigit(query[i+1]) || (query[i+1] == '-' || query[i+1] == '+') && i+2 < len(query) && isDigit(query[i+2])) {
				i += 2
				for i < len(query) && isDigit(query[i]) {
					i++
				}
			}
			unitStart := i
			for i < len(query) && isIdentChar(query[i]) {
				i++
			}
			if i > unitStart {
				if _, ok := timespanUnits[strings.ToLower(query[unitStart:i])]; !ok {
					return nil, errorAt(query, start, "%q is not a number or a timespan", query[start:i])
				}
				toks = append(toks, token{kind: tokTimespan, text: query[start:i], pos: start, end: i})
				continue
			}
			toks = append(toks, token{kind: tokNumber, text: query[start:i], pos: start, end: i})
		case c == '$' && i+1 < len(query) && isIdentStart(query[i+1]):
			// $table (search and union withsource), $left and $right (join).
			start := i
			i++
			for i < len(query) && isIdentChar(query[i]) {
				i++
			}
			toks = append(toks, token{kind: tokIdent, text: query[start:i], pos: start, end: i})
		case isIdentStart(c):
			start := i
			for i < len(query) && isIdentChar(query[i]) {
				i++
			}
			word := query[start:i]
			if literalKinds[word] && i < len(query) && query[i] == '(' && !(len(toks) > 0 && toks[len(toks)-1].text == ".") {
				end := matchingParen(query, i)
				if end < 0 {
					return nil, errorAt(query, i, "%s( has no closing parenthesis", word)
				}
				toks = append(toks, token{kind: tokLiteral, lit: word, text: query[i+1 : end], pos: start, end: end + 1})
				i = end + 1
				continue
			}
			toks = append(toks, token{kind: tokIdent, text: word, pos: start, end: i})
		case c == '[' && i+1 < len(query) && (query[i+1] == '\'' || query[i+1] == '"'):
			// ['name'] is a bracketed identifier or an index; the parser decides.
			toks = append(toks, token{kind: tokPunct, text: "[", pos: i, end: i + 1})
			i++
		default:
			matched := false
			for _, p := range punctuation {
				if strings.HasPrefix(query[i:], p) {
					toks = append(toks, token{kind: tokPunct, text: p, pos: i, end: i + len(p)})
					i += len(p)
					matched = true
					break
				}
			}
			if !matched {
				return nil, errorAt(query, i, "unexpected character %q", c)
			}
		}
	}
	if len(toks) > maxTokens {
		return nil, errorAt(query, toks[maxTokens].pos, "the query is longer than %d tokens", maxTokens)
	}
	toks = append(toks, token{kind: tokEOF, pos: len(query), end: len(query)})
	return toks, nil
}

func readString(query string, i int, verbatim bool) (string, int, error) {
	quote := query[i]
	start := i
	i++
	var b strings.Builder
	for i < len(query) {
		c := query[i]
		switch {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\' && !verbatim && i+1 < len(query):
			i++
			switch query[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(query[i])
			}
		case c == '\n':
			return "", 0, errorAt(query, start, "string literal not closed on its line")
		default:
			b.WriteByte(c)
		}
		i++
	}
	return "", 0, errorAt(query, start, "string literal not closed")
}

func matchingParen(query string, open int) int {
	depth := 0
	for i := open; i < len(query); i++ {
		switch query[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		case '\'', '"':
			_, n, err := readString(query, i, false)
			if err != nil {
				return -1
			}
			i = n - 1
		}
	}
	return -1
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
