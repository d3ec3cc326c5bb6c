// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"encoding/json"
	"strconv"
	"strings"
)

type parser struct {
	query string
	toks  []token
	i     int
	// isTable tells a table (or tabular let) from a scalar name where
	// the syntax alone cannot: let x = traces.
	isTable func(string) bool
	lets    map[string]bool
	depth   int
}

// maxDepth bounds how deep expressions and pipelines nest: deeper input
// fails with an error, never with a stack that runs out.
const maxDepth = 200

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.peek().pos, "the query nests more than %d levels deep", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// Parse reads a query. isTable names the tables the query may read; a
// let bound to one of them, or to a pipeline, is tabular.
func Parse(query string, isTable func(string) bool) (*Query, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{query: query, toks: toks, isTable: isTable, lets: map[string]bool{}}
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	q.text = query
	return q, nil
}

// bail carries a parse error up the recursive descent.
type bail struct{ err *Error }

func (p *parser) fail(pos int, format string, args ...any) {
	panic(bail{errorAt(p.query, pos, format, args...)})
}

func (p *parser) parseQuery() (q *Query, err error) {
	defer func() {
		if r := recover(); r != nil {
			q = nil
			if b, ok := r.(bail); ok {
				err = b.err
				return
			}
			// No input panics the caller: a fault of the parser is an
			// error at the token it stopped on.
			pos := len(p.query)
			if p.i < len(p.toks) {
				pos = p.toks[p.i].pos
			}
			err = errorAt(p.query, pos, "the query could not be read here (%v)", r)
		}
	}()
	q = &Query{}
	for {
		for p.isPunct(";") {
			p.i++
		}
		if p.peek().kind == tokEOF {
			break
		}
		if p.isWord("let") {
			q.Lets = append(q.Lets, p.parseLet())
			continue
		}
		if q.Body != nil {
			p.fail(p.peek().pos, "only one tabular expression per query; separate let statements with ';'")
		}
		q.Body = p.parsePipeline()
		if !p.isPunct(";") && p.peek().kind != tokEOF {
			p.fail(p.peek().pos, "unexpected %q after the query", p.peek().text)
		}
	}
	if q.Body == nil {
		p.fail(len(p.query), "the query has no tabular expression")
	}
	return q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}
func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.text == s
}
func (p *parser) expectPunct(s, context string) token {
	if !p.isPunct(s) {
		p.fail(p.peek().pos, "%s: expected %q, found %s", context, s, describe(p.peek()))
	}
	return p.next()
}
func (p *parser) expectWord(s, context string) token {
	if !p.isWord(s) {
		p.fail(p.peek().pos, "%s: expected %q, found %s", context, s, describe(p.peek()))
	}
	return p.next()
}
func (p *parser) ident(context string) token {
	t := p.peek()
	if t.kind == tokIdent {
		return p.next()
	}
	if t.kind == tokPunct && t.text == "[" && p.peekAt(1).kind == tokString && p.peekAt(2).text == "]" {
		p.i += 3
		return token{kind: tokIdent, text: p.peekAt(-2).text, pos: t.pos}
	}
	p.fail(t.pos, "%s: expected a name, found %s", context, describe(t))
	return token{}
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the query"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

// adjacent reports whether token k+1 follows token k with no space.
func (p *parser) adjacent(k int) bool { return p.peekAt(k).end == p.peekAt(k+1).pos }

func (p *parser) parseLet() *Let {
	pos := p.next().pos
	name := p.ident("let")
	p.expectPunct("=", "let "+name.text)
	let := &Let{Name: name.text, Pos: pos}
	if p.startsPipeline() {
		let.Tabular = p.parsePipeline()
		p.lets[name.text] = true
	} else {
		let.Scalar = p.parseExpr()
	}
	if !p.isPunct(";") {
		p.fail(p.peek().pos, "let %s: expected ';' after it, found %s", name.text, describe(p.peek()))
	}
	return let
}

func (p *parser) startsPipeline() bool {
	t := p.peek()
	if t.kind == tokPunct && t.text == "(" {
		// (traces | ...) as a let's value is tabular; (1 + 2) is not.
		depth := 0
		for k := p.i; k < len(p.toks); k++ {
			switch p.toks[k].text {
			case "(":
				depth++
			case ")":
				depth--
				if depth == 0 {
					return false
				}
			case "|":
				if depth == 1 {
					return true
				}
			}
		}
		return false
	}
	if t.kind != tokIdent {
		return false
	}
	switch t.text {
	case "union", "print", "range", "search":
		return true
	}
	return p.peekAt(1).text == "|" || p.isTable(t.text) || p.lets[t.text]
}

func (p *parser) parsePipeline() *Pipeline {
	p.enter()
	defer p.leave()
	pl := &Pipeline{Pos: p.peek().pos}
	pl.Source = p.parseSource()
	for p.isPunct("|") {
		p.next()
		pl.Ops = append(pl.Ops, p.parseOp())
	}
	return pl
}

func (p *parser) parseSource() Source {
	t := p.peek()
	if t.kind == tokPunct && t.text == "(" {
		p.next()
		inner := p.parsePipeline()
		p.expectPunct(")", "a parenthesised tabular expression")
		// A parenthesised pipeline as a source: a union of one.
		return &UnionSource{Union: &UnionOp{Tables: []*Pipeline{inner}, Pos: t.pos}}
	}
	name := p.ident("the query's source")
	switch name.text {
	case "union":
		return &UnionSource{Union: p.parseUnion(name.pos)}
	case "print":
		return &PrintSource{Items: p.parseNamedList("print"), Pos: name.pos}
	case "search":
		return &SearchSource{Search: p.parseSearch(name.pos)}
	case "range":
		r := &RangeSource{Pos: name.pos}
		r.Name = p.ident("range").text
		p.expectWord("from", "range")
		r.From = p.parseExpr()
		p.expectWord("to", "range")
		r.To = p.parseExpr()
		p.expectWord("step", "range")
		r.Step = p.parseExpr()
		return r
	}
	return &TableRef{Name: name.text, Pos: name.pos}
}

// opWord reads an operator's name, joining hyphenated names written
// without spaces (project-away, mv-expand).
func (p *parser) opWord() token {
	t := p.ident("a tabular operator after '|'")
	for p.isPunct("-") && p.adjacent(-1) && p.adjacent(0) && p.peekAt(1).kind == tokIdent {
		p.next()
		t.text += "-" + p.next().text
	}
	return t
}

func (p *parser) parseOp() Op {
	t := p.opWord()
	switch t.text {
	case "where", "filter":
		return &WhereOp{Pred: p.parseExpr(), Pos: t.pos}
	case "project":
		return &ProjectOp{Items: p.parseNamedList("project"), Pos: t.pos}
	case "project-away":
		op := &ProjectAwayOp{Pos: t.pos}
		for {
			op.Names = append(op.Names, p.ident("project-away").text)
			if !p.isPunct(",") {
				return op
			}
			p.next()
		}
	case "project-rename":
		op := &ProjectRenameOp{Pos: t.pos}
		for {
			n := p.ident("project-rename").text
			p.expectPunct("=", "project-rename")
			o := p.ident("project-rename").text
			op.Pairs = append(op.Pairs, [2]string{n, o})
			if !p.isPunct(",") {
				return op
			}
			p.next()
		}
	case "extend":
		return &ExtendOp{Items: p.parseNamedList("extend"), Pos: t.pos}
	case "summarize":
		op := &SummarizeOp{Pos: t.pos}
		if !p.isWord("by") {
			op.Aggs = p.parseNamedList("summarize")
		}
		if p.isWord("by") {
			p.next()
			op.By = p.parseNamedList("summarize by")
		}
		if len(op.Aggs) == 0 && len(op.By) == 0 {
			p.fail(t.pos, "summarize: expected an aggregation or 'by'")
		}
		return op
	case "order", "sort":
		p.expectWord("by", t.text)
		op := &SortOp{Pos: t.pos}
		for {
			op.Keys = append(op.Keys, p.parseSortKey())
			if !p.isPunct(",") {
				return op
			}
			p.next()
		}
	case "top":
		op := &TopOp{Pos: t.pos, N: p.parseExpr()}
		p.expectWord("by", "top")
		op.Key = p.parseSortKey()
		return op
	case "take", "limit":
		return &TakeOp{N: p.parseExpr(), Pos: t.pos}
	case "count":
		return &CountOp{Pos: t.pos}
	case "distinct":
		if p.isPunct("*") {
			p.next()
			return &DistinctOp{Pos: t.pos}
		}
		return &DistinctOp{Items: p.parseNamedList("distinct"), Pos: t.pos}
	case "union":
		return p.parseUnion(t.pos)
	case "join":
		return p.parseJoin(t.pos)
	case "mv-expand":
		op := &MvExpandOp{Pos: t.pos, To: TypeDynamic}
		op.Items = p.parseNamedList("mv-expand")
		if p.isWord("to") {
			p.next()
			p.expectWord("typeof", "mv-expand to")
			p.expectPunct("(", "mv-expand to typeof")
			name := p.ident("mv-expand to typeof")
			typ, ok := typeByName(name.text)
			if !ok {
				p.fail(name.pos, "mv-expand: unknown type %q", name.text)
			}
			op.To = typ
			p.expectPunct(")", "mv-expand to typeof")
		}
		return op
	case "parse":
		return p.parseParse(t.pos)
	case "search":
		return p.parseSearch(t.pos)
	case "render":
		chart := p.ident("render")
		// with (title=..., ...) is kept for no one: skip it.
		for !p.isPunct("|") && !p.isPunct(";") && p.peek().kind != tokEOF {
			p.next()
		}
		return &RenderOp{Chart: chart.text, Pos: t.pos}
	}
	p.fail(t.pos, "unknown or unsupported tabular operator %q", t.text)
	return nil
}

func (p *parser) parseSortKey() SortKey {
	k := SortKey{Expr: p.parseExpr()}
	if p.isWord("asc") || p.isWord("desc") {
		k.Asc = p.next().text == "asc"
	}
	k.NullsFirst = k.Asc
	if p.isWord("nulls") {
		p.next()
		switch {
		case p.isWord("first"):
			k.NullsFirst = true
		case p.isWord("last"):
			k.NullsFirst = false
		default:
			p.fail(p.peek().pos, "nulls: expected 'first' or 'last'")
		}
		p.next()
	}
	return k
}

func (p *parser) parseUnion(pos int) *UnionOp {
	op := &UnionOp{Pos: pos}
	for p.peek().kind == tokIdent && p.peekAt(1).text == "=" {
		param := p.next()
		p.next()
		switch param.text {
		case "withsource":
			op.WithSource = p.ident("union withsource").text
		case "kind":
			kind := p.ident("union kind")
			if kind.text != "outer" {
				p.fail(kind.pos, "union: kind=%s is not supported (outer only)", kind.text)
			}
		case "isfuzzy":
			p.next()
		default:
			p.fail(param.pos, "union: unknown parameter %q", param.text)
		}
	}
	for {
		if p.isPunct("*") {
			// union *: every table.
			star := p.next()
			op.Tables = append(op.Tables, &Pipeline{Source: &TableRef{Name: "*", Pos: star.pos}, Pos: star.pos})
		} else if p.isPunct("(") {
			p.next()
			op.Tables = append(op.Tables, p.parsePipeline())
			p.expectPunct(")", "union")
		} else {
			name := p.ident("union")
			op.Tables = append(op.Tables, &Pipeline{Source: &TableRef{Name: name.text, Pos: name.pos}, Pos: name.pos})
		}
		if !p.isPunct(",") {
			return op
		}
		p.next()
	}
}

func (p *parser) parseJoin(pos int) *JoinOp {
	op := &JoinOp{Pos: pos, Kind: "innerunique"}
	for p.peek().kind == tokIdent && p.peekAt(1).text == "=" && p.peek().text != "on" {
		param := p.next()
		p.next()
		if param.text != "kind" {
			p.fail(param.pos, "join: unknown parameter %q", param.text)
		}
		kind := p.ident("join kind")
		switch kind.text {
		case "inner", "innerunique", "leftouter", "leftanti", "leftsemi", "rightouter", "rightanti", "rightsemi", "fullouter", "anti", "leftantisemi", "rightantisemi":
			op.Kind = kind.text
		default:
			p.fail(kind.pos, "join: unknown kind %q", kind.text)
		}
	}
	if p.isPunct("(") {
		p.next()
		op.Right = p.parsePipeline()
		p.expectPunct(")", "join")
	} else {
		name := p.ident("join")
		op.Right = &Pipeline{Source: &TableRef{Name: name.text, Pos: name.pos}, Pos: name.pos}
	}
	p.expectWord("on", "join")
	for {
		kpos := p.peek().pos
		if p.isWord("$left") || p.isWord("$right") {
			l := p.parseSide("left")
			p.expectPunct("==", "join on")
			r := p.parseSide("right")
			op.On = append(op.On, JoinKey{Left: l, Right: r, Pos: kpos})
		} else {
			name := p.ident("join on").text
			op.On = append(op.On, JoinKey{Left: name, Right: name, Pos: kpos})
		}
		if !p.isPunct(",") {
			return op
		}
		p.next()
	}
}

func (p *parser) parseSide(want string) string {
	side := p.ident("join on")
	if side.text != "$"+want {
		p.fail(side.pos, "join on: expected $%s, found %s", want, side.text)
	}
	p.expectPunct(".", "join on")
	return p.ident("join on").text
}

func (p *parser) parseParse(pos int) *ParseOp {
	op := &ParseOp{Pos: pos}
	if p.isWord("kind") && p.peekAt(1).text == "=" {
		p.i += 2
		kind := p.ident("parse kind")
		if kind.text != "simple" {
			p.fail(kind.pos, "parse: kind=%s is not supported (simple only)", kind.text)
		}
	}
	op.Source = p.parseExpr()
	p.expectWord("with", "parse")
	for {
		t := p.peek()
		switch {
		case t.kind == tokPunct && t.text == "*":
			p.next()
			op.Parts = append(op.Parts, ParsePart{Star: true})
		case t.kind == tokString:
			p.next()
			op.Parts = append(op.Parts, ParsePart{Const: t.text})
		case t.kind == tokIdent:
			p.next()
			part := ParsePart{Column: t.text, Type: TypeString}
			if p.isPunct(":") {
				p.next()
				name := p.peek()
				var typ Type
				var ok bool
				if name.kind == tokIdent {
					typ, ok = typeByName(p.next().text)
				}
				if !ok {
					p.fail(name.pos, "parse: unknown type for %s", t.text)
				}
				part.Type = typ
			}
			op.Parts = append(op.Parts, part)
		default:
			if len(op.Parts) == 0 {
				p.fail(t.pos, "parse: expected a pattern after 'with'")
			}
			return op
		}
	}
}

func (p *parser) parseSearch(pos int) *SearchOp {
	t := p.peek()
	if t.kind != tokString {
		p.fail(t.pos, "search: only a string term is supported (search \"text\")")
	}
	p.next()
	return &SearchOp{Term: t.text, Pos: pos}
}

func (p *parser) parseNamedList(context string) []NamedExpr {
	var items []NamedExpr
	for {
		var item NamedExpr
		if (p.peek().kind == tokIdent && p.peekAt(1).text == "=") ||
			(p.isPunct("[") && p.peekAt(1).kind == tokString && p.peekAt(2).text == "]" && p.peekAt(3).text == "=") {
			item.Name = p.ident(context).text
			p.next()
		}
		item.Expr = p.parseExpr()
		items = append(items, item)
		if !p.isPunct(",") {
			return items
		}
		p.next()
	}
}

// Expressions, lowest precedence first.

func (p *parser) parseExpr() Expr {
	p.enter()
	defer p.leave()
	return p.parseOr()
}

func (p *parser) parseOr() Expr {
	l := p.parseAnd()
	for p.isWord("or") {
		t := p.next()
		l = &Binary{Op: "or", L: l, R: p.parseAnd(), Pos: t.pos}
	}
	return l
}

func (p *parser) parseAnd() Expr {
	l := p.parseComparison()
	for p.isWord("and") {
		t := p.next()
		l = &Binary{Op: "and", L: l, R: p.parseComparison(), Pos: t.pos}
	}
	return l
}

// stringOps are the word operators, each with its negation (!has) and,
// where Kusto has one, its case-sensitive form.
var stringOps = map[string]bool{
	"has": true, "has_cs": true, "hasprefix": true, "hasprefix_cs": true, "hassuffix": true, "hassuffix_cs": true,
	"contains": true, "contains_cs": true, "startswith": true, "startswith_cs": true,
	"endswith": true, "endswith_cs": true,
}

func (p *parser) parseComparison() Expr {
	l := p.parseAdditive()
	t := p.peek()
	switch {
	case t.kind == tokPunct && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=" || t.text == "=~" || t.text == "!~"):
		p.next()
		return &Binary{Op: t.text, L: l, R: p.parseAdditive(), Pos: t.pos}
	case t.kind == tokPunct && t.text == "=":
		p.fail(t.pos, "'=' is not a comparison: use '==' (or '=~' to ignore case)")
	case t.kind == tokPunct && t.text == "!" && p.adjacent(0) && p.peekAt(1).kind == tokIdent:
		word := p.peekAt(1).text
		switch {
		case word == "in":
			p.i += 2
			return p.parseIn(l, true, t.pos)
		case word == "between":
			p.i += 2
			return p.parseBetween(l, true, t.pos)
		case stringOps[word]:
			p.i += 2
			return &Binary{Op: "!" + word, L: l, R: p.parseAdditive(), Pos: t.pos}
		}
		p.fail(t.pos, "unknown operator !%s", word)
	case t.kind == tokIdent:
		switch {
		case t.text == "in":
			p.next()
			return p.parseIn(l, false, t.pos)
		case t.text == "between":
			p.next()
			return p.parseBetween(l, false, t.pos)
		case t.text == "matches":
			p.next()
			p.expectWord("regex", "matches regex")
			return &Binary{Op: "matches regex", L: l, R: p.parseAdditive(), Pos: t.pos}
		case t.text == "has_any" || t.text == "has_all":
			p.next()
			return p.parseIn(l, false, t.pos).withOp(t.text)
		case stringOps[t.text]:
			p.next()
			return &Binary{Op: t.text, L: l, R: p.parseAdditive(), Pos: t.pos}
		}
	}
	return l
}

// hasList is has_any / has_all: an in-list with a string operator.
type hasList struct {
	InExpr
	Op string
}

func (e *InExpr) withOp(op string) Expr { return &hasList{InExpr: *e, Op: op} }

func (p *parser) parseIn(x Expr, not bool, pos int) *InExpr {
	e := &InExpr{X: x, Not: not, Pos: pos}
	if p.isPunct("~") && p.adjacent(-1) {
		p.next()
		e.CI = true
	}
	p.expectPunct("(", "in")
	for !p.isPunct(")") {
		e.List = append(e.List, p.parseExpr())
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expectPunct(")", "in")
	return e
}

func (p *parser) parseBetween(x Expr, not bool, pos int) Expr {
	p.expectPunct("(", "between")
	lo := p.parseAdditive()
	p.expectPunct("..", "between")
	hi := p.parseAdditive()
	p.expectPunct(")", "between")
	return &Between{X: x, Lo: lo, Hi: hi, Not: not, Pos: pos}
}

func (p *parser) parseAdditive() Expr {
	l := p.parseMultiplicative()
	for p.isPunct("+") || p.isPunct("-") {
		t := p.next()
		l = &Binary{Op: t.text, L: l, R: p.parseMultiplicative(), Pos: t.pos}
	}
	return l
}

func (p *parser) parseMultiplicative() Expr {
	l := p.parseUnary()
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		t := p.next()
		l = &Binary{Op: t.text, L: l, R: p.parseUnary(), Pos: t.pos}
	}
	return l
}

func (p *parser) parseUnary() Expr {
	if p.isPunct("-") || p.isPunct("+") {
		t := p.next()
		p.enter()
		defer p.leave()
		x := p.parseUnary()
		if t.text == "+" {
			return x
		}
		if lit, ok := x.(*Literal); ok && !lit.Value.Null {
			switch lit.Value.T {
			case TypeLong, TypeInt, TypeTimespan:
				lit.Value.I = -lit.Value.I
				lit.Pos = t.pos
				return lit
			case TypeReal:
				lit.Value.F = -lit.Value.F
				lit.Pos = t.pos
				return lit
			}
		}
		return &Unary{Op: "-", X: x, Pos: t.pos}
	}
	return p.parsePostfix()
}

func (p *parser) parsePostfix() Expr {
	x := p.parsePrimary()
	for {
		switch {
		case p.isPunct(".") && (p.peekAt(1).kind == tokIdent || p.peekAt(1).kind == tokLiteral):
			p.next()
			name := p.next()
			text := name.text
			if name.kind == tokLiteral { // x.time(...) never: a member named like a literal kind
				p.fail(name.pos, "unexpected %s(...) after '.'", name.lit)
			}
			x = &Member{X: x, Name: text, Pos: name.pos}
		case p.isPunct("["):
			t := p.next()
			key := p.parseExpr()
			p.expectPunct("]", "an index")
			x = &IndexExpr{X: x, Key: key, Pos: t.pos}
		default:
			return x
		}
	}
}

func (p *parser) parsePrimary() Expr {
	t := p.peek()
	switch t.kind {
	case tokString:
		p.next()
		return &Literal{Value: String(t.text), Pos: t.pos}
	case tokNumber:
		p.next()
		if strings.ContainsAny(t.text, ".eE") {
			f, err := strconv.ParseFloat(t.text, 64)
			if err != nil {
				p.fail(t.pos, "bad number %q", t.text)
			}
			return &Literal{Value: Real(f), Pos: t.pos}
		}
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			p.fail(t.pos, "number %q out of range", t.text)
		}
		// Kusto's whole-number literals are long; int(1) is an int.
		return &Literal{Value: Long(i), Pos: t.pos}
	case tokTimespan:
		p.next()
		ticks, ok := ParseTimespan(t.text)
		if !ok {
			p.fail(t.pos, "bad timespan %q", t.text)
		}
		return &Literal{Value: Value{T: TypeTimespan, I: ticks}, Pos: t.pos}
	case tokLiteral:
		p.next()
		return &Literal{Value: p.literal(t), Pos: t.pos}
	case tokPunct:
		switch t.text {
		case "(":
			p.next()
			e := p.parseExpr()
			p.expectPunct(")", "a parenthesised expression")
			return e
		case "*":
			p.next()
			return &Star{Pos: t.pos}
		case "[":
			if p.peekAt(1).kind == tokString && p.peekAt(2).text == "]" {
				name := p.ident("a bracketed name")
				return &Ident{Name: name.text, Pos: t.pos}
			}
		}
	case tokIdent:
		p.next()
		switch t.text {
		case "true", "false":
			return &Literal{Value: Bool(t.text == "true"), Pos: t.pos}
		case "null":
			return &Literal{Value: Null(TypeNull), Pos: t.pos}
		}
		if p.isPunct("(") { // name(...) is a call, with or without a space
			p.next()
			call := &Call{Name: t.text, Pos: t.pos}
			for !p.isPunct(")") {
				if p.peek().kind == tokIdent && p.peekAt(1).text == "=" {
					// arg_max(timestamp, run = tostring(...)): a named argument.
					name := p.next()
					p.next()
					call.Args = append(call.Args, &NamedArg{Name: name.text, X: p.parseExpr(), Pos: name.pos})
				} else {
					call.Args = append(call.Args, p.parseExpr())
				}
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
			p.expectPunct(")", t.text+"()")
			return call
		}
		return &Ident{Name: t.text, Pos: t.pos}
	}
	p.fail(t.pos, "expected an expression, found %s", describe(t))
	return nil
}

func (p *parser) literal(t token) Value {
	text := strings.TrimSpace(t.text)
	if text == "null" {
		if typ, ok := typeByName(t.lit); ok {
			return Null(typ)
		}
	}
	switch t.lit {
	case "datetime":
		tm, ok := ParseDatetime(text)
		if !ok {
			p.fail(t.pos, "datetime(%s): not a date and time Kusto reads", text)
		}
		return Datetime(tm)
	case "timespan", "time":
		ticks, ok := ParseTimespan(text)
		if !ok {
			p.fail(t.pos, "%s(%s): not a timespan", t.lit, text)
		}
		return Value{T: TypeTimespan, I: ticks}
	case "dynamic":
		d, ok := parseDynamicLiteral(text)
		if !ok {
			p.fail(t.pos, "dynamic(%s): not a JSON value", text)
		}
		return Dynamic(d)
	case "bool", "boolean":
		switch strings.ToLower(text) {
		case "true":
			return Bool(true)
		case "false":
			return Bool(false)
		}
	case "long", "int":
		i, err := strconv.ParseInt(text, 10, 64)
		if err == nil {
			if t.lit == "int" {
				return Int(i)
			}
			return Long(i)
		}
	case "real", "double":
		f, err := strconv.ParseFloat(text, 64)
		if err == nil {
			return Real(f)
		}
		switch text {
		case "nan":
			return Real(nan())
		case "+inf", "inf":
			return Real(inf(1))
		case "-inf":
			return Real(inf(-1))
		}
	case "guid":
		return String(text)
	}
	p.fail(t.pos, "%s(%s): not a literal of that type", t.lit, text)
	return Value{}
}

// parseDynamicLiteral reads dynamic(...)'s text: JSON, where Kusto also
// takes single-quoted strings.
func parseDynamicLiteral(text string) (any, bool) {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '"':
			j := i + 1
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(text) {
				return nil, false
			}
			b.WriteString(text[i : j+1])
			i = j
		case '\'':
			s, n, err := readString(text, i, false)
			if err != nil {
				return nil, false
			}
			q, _ := json.Marshal(s)
			b.Write(q)
			i = n - 1
		default:
			b.WriteByte(c)
		}
	}
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.UseNumber()
	var d any
	if err := dec.Decode(&d); err != nil || dec.More() {
		return nil, false
	}
	return normalizeJSON(d), true
}
