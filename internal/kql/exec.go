// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is a query's table, as the query API returns it. Its rows are
// computed as they are read, one at a time: a result of many rows is
// never held whole.
type Result struct {
	Columns []ColumnSchema
	// Render is the chart that `render` asked for (timechart, barchart,
	// ...), empty without one: a hint for whoever shows the result.
	Render string
	cols   []Column
	n      int
}

// Len is the number of rows.
func (r *Result) Len() int { return r.n }

// Each calls fn with every row in order, in a slice it reuses. A column
// that cannot be read (a damaged index) ends it with an error.
func (r *Result) Each(fn func(row []Value) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading the result: %v", p)
		}
	}()
	row := make([]Value, len(r.cols))
	for i := 0; i < r.n; i++ {
		for j, c := range r.cols {
			v := c.Value(i)
			if v.T == TypeNull {
				v.T = TypeString
			}
			row[j] = v
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// Rows are every row, for a result known to be small.
func (r *Result) Rows() ([][]Value, error) {
	out := make([][]Value, 0, r.n)
	err := r.Each(func(row []Value) error {
		out = append(out, append([]Value(nil), row...))
		return nil
	})
	return out, err
}

// maxRows bounds what one operator makes of its input (join, mv-expand,
// range): a query past it fails, saying so, rather than exhaust the
// memory of the process it runs in. Kusto itself truncates results at
// 500 000 rows.
const maxRows = 4 << 20

// execution is one run of a query: its tables, lets and clock.
type execution struct {
	text        string
	catalog     Catalog
	now         int64 // ticks: now() and ago() are the same in every row
	lets        map[string]Value
	tabularLets map[string]*Pipeline
	// letScope are the tabular lets in order; a let's pipeline sees only
	// the lets before it (and the catalog), never itself.
	letScope []*Let
	visible  int
	render   string
	// byNames are the current summarize's by columns, which arg_max(x, *)
	// leaves out.
	byNames map[string]bool
}

// frame is a table between two operators.
type frame struct {
	names []string
	cols  []Column
	n     int
}

func (f *frame) scope(q *execution) *scope { return &scope{q: q, names: f.names, cols: f.cols} }

func (f *frame) index(name string) int {
	for i, n := range f.names {
		if n == name {
			return i
		}
	}
	return -1
}

// Run parses and runs a query against the catalog's tables, with now as
// the moment now() and ago() count from.
func Run(query string, catalog Catalog, now time.Time) (*Result, error) {
	isTable := func(name string) bool {
		t, err := catalog.Table(name)
		return err == nil && t != nil
	}
	q, err := Parse(query, isTable)
	if err != nil {
		return nil, err
	}
	return q.Run(catalog, now)
}

// Run executes a parsed query.
func (q *Query) Run(catalog Catalog, now time.Time) (res *Result, err error) {
	x := &execution{text: q.text, catalog: catalog, now: now.UnixNano() / int64(tick),
		lets: map[string]Value{}, tabularLets: map[string]*Pipeline{}}
	defer func() {
		if r := recover(); r != nil {
			if b, ok := r.(bail); ok {
				err = b.err
				return
			}
			err = fmt.Errorf("internal error running the query: %v", r)
		}
	}()
	for _, let := range q.Lets {
		if let.Tabular != nil {
			x.tabularLets[let.Name] = let.Tabular
			x.letScope = append(x.letScope, let)
			continue
		}
		empty := &frame{}
		s := empty.scope(x)
		v := s.compile(let.Scalar)
		if !v.konst {
			s.fail(let.Pos, "let %s: a scalar let is a constant expression", let.Name)
		}
		x.lets[let.Name] = v.fn(0)
	}
	x.visible = len(x.letScope)
	f := x.pipeline(q.Body)
	res = &Result{Render: x.render, cols: f.cols, n: f.n}
	for i, name := range f.names {
		typ := f.cols[i].Type()
		if typ == TypeNull {
			typ = TypeString
		}
		res.Columns = append(res.Columns, ColumnSchema{Name: name, Type: typ.String()})
	}
	return res, nil
}

func (x *execution) fail(pos int, format string, args ...any) {
	panic(bail{errorAt(x.text, pos, format, args...)})
}

func (x *execution) pipeline(p *Pipeline) *frame {
	f := x.source(p.Source)
	for _, op := range p.Ops {
		f = x.op(f, op)
	}
	return f
}

func (x *execution) table(name string, pos int) *frame {
	for i := x.visible - 1; i >= 0; i-- {
		if let := x.letScope[i]; let.Name == name {
			outer := x.visible
			x.visible = i
			defer func() { x.visible = outer }()
			return x.pipeline(let.Tabular)
		}
	}
	t, err := x.catalog.Table(name)
	if err != nil {
		x.fail(pos, "table %s: %v", name, err)
	}
	if t == nil {
		x.fail(pos, "unknown table %q (tables: %s)", name, strings.Join(x.catalog.Tables(), ", "))
	}
	f := &frame{n: t.Len()}
	for i, n := range t.Columns() {
		f.names = append(f.names, n)
		f.cols = append(f.cols, t.Column(i))
	}
	return f
}

func (x *execution) source(src Source) *frame {
	switch s := src.(type) {
	case *TableRef:
		return x.table(s.Name, s.Pos)
	case *UnionSource:
		if len(s.Union.Tables) == 1 && s.Union.WithSource == "" {
			return x.pipeline(s.Union.Tables[0])
		}
		return x.union(nil, s.Union)
	case *PrintSource:
		return x.project(&frame{n: 1}, s.Items, s.Pos)
	case *SearchSource:
		u := &UnionOp{WithSource: "$table", Pos: s.Search.Pos}
		for _, name := range x.catalog.Tables() {
			u.Tables = append(u.Tables, &Pipeline{Source: &TableRef{Name: name, Pos: s.Search.Pos}})
		}
		return x.search(x.union(nil, u), s.Search)
	case *RangeSource:
		return x.rangeSource(s)
	}
	panic("unknown source")
}

func (x *execution) op(f *frame, op Op) *frame {
	switch o := op.(type) {
	case *WhereOp:
		return x.where(f, o)
	case *ProjectOp:
		return x.project(f, o.Items, o.Pos)
	case *ExtendOp:
		return x.extend(f, o.Items)
	case *ProjectAwayOp:
		keep := &frame{n: f.n}
		drop := map[string]bool{}
		for _, n := range o.Names {
			if f.index(n) < 0 {
				x.fail(o.Pos, "project-away: no column %q", n)
			}
			drop[n] = true
		}
		for i, n := range f.names {
			if !drop[n] {
				keep.names = append(keep.names, n)
				keep.cols = append(keep.cols, f.cols[i])
			}
		}
		return keep
	case *ProjectRenameOp:
		out := &frame{n: f.n, names: append([]string(nil), f.names...), cols: f.cols}
		for _, pair := range o.Pairs {
			i := out.index(pair[1])
			if i < 0 {
				x.fail(o.Pos, "project-rename: no column %q", pair[1])
			}
			out.names[i] = pair[0]
		}
		return out
	case *SummarizeOp:
		return x.summarize(f, o)
	case *SortOp:
		return x.sort(f, o.Keys, -1)
	case *TopOp:
		n := x.count(f, o.N, "top")
		return x.sort(f, []SortKey{o.Key}, n)
	case *TakeOp:
		n := x.count(f, o.N, "take")
		return f.slice(0, min(n, f.n))
	case *CountOp:
		return &frame{n: 1, names: []string{"Count"}, cols: []Column{constant{Long(int64(f.n))}}}
	case *DistinctOp:
		items := o.Items
		if items == nil {
			for _, n := range f.names {
				items = append(items, NamedExpr{Expr: &Ident{Name: n, Pos: o.Pos}})
			}
		}
		return x.summarize(f, &SummarizeOp{By: items, Pos: o.Pos})
	case *UnionOp:
		return x.union(f, o)
	case *JoinOp:
		return x.join(f, o)
	case *MvExpandOp:
		return x.mvExpand(f, o)
	case *ParseOp:
		return x.parse(f, o)
	case *SearchOp:
		return x.search(f, o)
	case *RenderOp:
		x.render = o.Chart
		return f
	}
	panic("unknown operator")
}

// slice is rows [from, to) of the frame.
func (f *frame) slice(from, to int) *frame {
	rows := make([]int, 0, to-from)
	for r := from; r < to; r++ {
		rows = append(rows, r)
	}
	return f.selectRows(rows)
}

func (f *frame) selectRows(rows []int) *frame {
	out := &frame{n: len(rows), names: f.names, cols: make([]Column, len(f.cols))}
	for i, c := range f.cols {
		out.cols[i] = selectRows(c, rows)
	}
	return out
}

func (x *execution) count(f *frame, e Expr, op string) int {
	s := f.scope(x)
	c := s.compile(e)
	v := convert(c.fn(0), TypeLong)
	if !c.konst || v.Null || v.I < 0 {
		x.fail(e.pos(), "%s: the row count is a constant whole number", op)
	}
	return int(min(v.I, int64(1<<31)))
}

func (x *execution) where(f *frame, o *WhereOp) *frame {
	s := f.scope(x)
	pred := s.compile(o.Pred)
	if pred.t != TypeBool && pred.t != TypeDynamic {
		s.fail(o.Pred.pos(), "where: the condition is a %s, not a bool", pred.t)
	}
	rows := make([]int, 0, f.n/4+1)
	for r := 0; r < f.n; r++ {
		if dynamicScalar(pred.fn(r)).truth() {
			rows = append(rows, r)
		}
	}
	return f.selectRows(rows)
}

// materialize computes an expression for every row, unless it is already
// a column.
func materialize(c scalar, n int) Column {
	if c.col != nil {
		return c.col
	}
	if c.konst {
		v := c.fn(0)
		if v.T == TypeNull {
			v.T = TypeString
		}
		return constant{v}
	}
	vals := &Values{T: c.t, Rows: make([]Value, n)}
	if vals.T == TypeNull {
		vals.T = TypeString
	}
	for r := 0; r < n; r++ {
		vals.Rows[r] = castTo(c.fn(r), vals.T)
	}
	return vals
}

// itemName is the name Kusto gives an expression's column.
func itemName(item NamedExpr, c scalar, k *int) string {
	if item.Name != "" {
		return item.Name
	}
	if c.name != "" {
		return c.name
	}
	*k++
	return "Column" + strconv.Itoa(*k)
}

func (x *execution) project(f *frame, items []NamedExpr, pos int) *frame {
	s := f.scope(x)
	out := &frame{n: f.n}
	k := 0
	for _, item := range items {
		c := s.compile(item.Expr)
		name := itemName(item, c, &k)
		if out.index(name) >= 0 {
			x.fail(item.Expr.pos(), "project: column %q twice", name)
		}
		out.names = append(out.names, name)
		out.cols = append(out.cols, materialize(c, f.n))
	}
	return out
}

func (x *execution) extend(f *frame, items []NamedExpr) *frame {
	s := f.scope(x)
	out := &frame{n: f.n, names: append([]string(nil), f.names...), cols: append([]Column(nil), f.cols...)}
	k := 0
	for _, item := range items {
		c := s.compile(item.Expr)
		name := itemName(item, c, &k)
		col := materialize(c, f.n)
		if i := out.index(name); i >= 0 {
			out.cols[i] = col
		} else {
			out.names = append(out.names, name)
			out.cols = append(out.cols, col)
		}
	}
	return out
}

func (x *execution) summarize(f *frame, o *SummarizeOp) *frame {
	s := f.scope(x)
	var keys []scalar
	var keyNames []string
	k := 0
	x.byNames = map[string]bool{}
	for _, item := range o.By {
		c := s.compile(item.Expr)
		name := itemName(item, c, &k)
		keys = append(keys, c)
		keyNames = append(keyNames, name)
		x.byNames[name] = true
	}
	var aggs []aggregation
	// An item that computes over aggregations (sum(x) > 0) aggregates
	// into hidden columns, then computes over the groups.
	computed := false
	// order is the result's columns after the by columns, as the query
	// names them: an item over aggregations stays in its place.
	var order []NamedExpr
	hidden := 0
	for _, item := range o.Aggs {
		if call, ok := item.Expr.(*Call); ok {
			if _, isAgg := aggregates[call.Name]; isAgg {
				a := aggregates[call.Name](s, call, item.Name)
				aggs = append(aggs, a)
				for _, n := range a.names {
					order = append(order, NamedExpr{Expr: &Ident{Name: n}})
				}
				continue
			}
		}
		var names []string
		expr := rewriteCalls(item.Expr, func(c *Call) Expr {
			fn, ok := aggregates[c.Name]
			if !ok {
				return nil
			}
			hidden++
			name := fmt.Sprintf("\x00agg%d", hidden)
			names = append(names, name)
			aggs = append(aggs, fn(s, c, name))
			return &Ident{Name: name, Pos: c.Pos}
		})
		if len(names) == 0 {
			if call, ok := item.Expr.(*Call); ok {
				if _, scalarFn := functions[call.Name]; scalarFn {
					x.fail(call.Pos, "summarize: %s() is not an aggregation", call.Name)
				}
				x.fail(call.Pos, "unknown or unsupported aggregation %s()", call.Name)
			}
			x.fail(item.Expr.pos(), "summarize: expected an aggregation such as count() or avg(x)")
		}
		computed = true
		order = append(order, NamedExpr{Name: item.Name, Expr: expr})
	}
	x.byNames = nil

	type group struct {
		key  []Value
		accs []accumulator
	}
	newGroup := func(key []Value) *group {
		g := &group{key: key}
		for _, a := range aggs {
			g.accs = append(g.accs, a.new())
		}
		return g
	}
	var groups []*group
	if len(keys) == 0 {
		g := newGroup(nil)
		groups = append(groups, g)
		for r := 0; r < f.n; r++ {
			for _, a := range g.accs {
				a.add(r)
			}
		}
	} else {
		index := map[string]*group{}
		var b strings.Builder
		key := make([]Value, len(keys))
		for r := 0; r < f.n; r++ {
			b.Reset()
			for i, kf := range keys {
				key[i] = kf.fn(r)
				b.WriteString(groupKey(key[i]))
				b.WriteByte(0)
			}
			g, ok := index[b.String()]
			if !ok {
				g = newGroup(append([]Value(nil), key...))
				index[b.String()] = g
				groups = append(groups, g)
			}
			for _, a := range g.accs {
				a.add(r)
			}
		}
	}

	out := &frame{n: len(groups)}
	for i, name := range keyNames {
		vals := &Values{T: keys[i].t, Rows: make([]Value, len(groups))}
		if vals.T == TypeNull {
			vals.T = TypeString
		}
		for gi, g := range groups {
			vals.Rows[gi] = castTo(g.key[i], vals.T)
		}
		out.names = append(out.names, name)
		out.cols = append(out.cols, vals)
	}
	for ai, a := range aggs {
		results := make([]*Values, len(a.names))
		for j := range a.names {
			results[j] = &Values{T: a.types[j], Rows: make([]Value, len(groups))}
			if results[j].T == TypeNull {
				results[j].T = TypeString
			}
		}
		for gi, g := range groups {
			for j, v := range g.accs[ai].results() {
				results[j].Rows[gi] = castTo(v, results[j].T)
			}
		}
		for j, name := range a.names {
			if out.index(name) >= 0 {
				x.fail(o.Pos, "summarize: column %q twice; name one (n = ...)", name)
			}
			out.names = append(out.names, name)
			out.cols = append(out.cols, results[j])
		}
	}
	if computed {
		var items []NamedExpr
		for _, n := range keyNames {
			items = append(items, NamedExpr{Expr: &Ident{Name: n}})
		}
		out = x.project(out, append(items, order...), o.Pos)
	}
	return out
}

// rewriteCalls replaces each call f returns an expression for.
func rewriteCalls(e Expr, f func(*Call) Expr) Expr {
	switch x := e.(type) {
	case *Call:
		if r := f(x); r != nil {
			return r
		}
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = rewriteCalls(a, f)
		}
		return &c
	case *Binary:
		return &Binary{Op: x.Op, L: rewriteCalls(x.L, f), R: rewriteCalls(x.R, f), Pos: x.Pos}
	case *Unary:
		return &Unary{Op: x.Op, X: rewriteCalls(x.X, f), Pos: x.Pos}
	case *Member:
		return &Member{X: rewriteCalls(x.X, f), Name: x.Name, Pos: x.Pos}
	case *IndexExpr:
		return &IndexExpr{X: rewriteCalls(x.X, f), Key: rewriteCalls(x.Key, f), Pos: x.Pos}
	case *NamedArg:
		return &NamedArg{Name: x.Name, X: rewriteCalls(x.X, f), Pos: x.Pos}
	case *Between:
		return &Between{X: rewriteCalls(x.X, f), Lo: rewriteCalls(x.Lo, f), Hi: rewriteCalls(x.Hi, f), Not: x.Not, Pos: x.Pos}
	case *InExpr:
		in := *x
		in.X = rewriteCalls(x.X, f)
		return &in
	}
	return e
}

// sort orders the frame by the keys; limit >= 0 keeps that many rows.
func (x *execution) sort(f *frame, keys []SortKey, limit int) *frame {
	s := f.scope(x)
	fns := make([]scalar, len(keys))
	for i, k := range keys {
		fns[i] = s.compile(k.Expr)
	}
	rows := make([]int, f.n)
	vals := make([][]Value, len(keys))
	for i := range keys {
		vals[i] = make([]Value, f.n)
		for r := 0; r < f.n; r++ {
			vals[i][r] = dynamicScalar(fns[i].fn(r))
		}
	}
	for r := range rows {
		rows[r] = r
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := rows[a], rows[b]
		for i, k := range keys {
			va, vb := vals[i][ra], vals[i][rb]
			if va.Null || vb.Null {
				if va.Null == vb.Null {
					continue
				}
				return va.Null == k.NullsFirst
			}
			c, ok := compare(va, vb)
			if !ok || c == 0 {
				if !ok {
					c = strings.Compare(va.Text(), vb.Text())
					if c == 0 {
						continue
					}
				} else {
					continue
				}
			}
			return (c < 0) == k.Asc
		}
		return false
	})
	if limit >= 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	return f.selectRows(rows)
}

// union puts tables one after the other: columns by name, in the order
// they first appear; a column a table lacks is null there.
func (x *execution) union(first *frame, o *UnionOp) *frame {
	var frames []*frame
	var sources []string
	if first != nil {
		frames = append(frames, first)
		sources = append(sources, "union_arg0")
	}
	for _, p := range o.Tables {
		if ref, ok := p.Source.(*TableRef); ok && ref.Name == "*" {
			for _, name := range x.catalog.Tables() {
				frames = append(frames, x.table(name, ref.Pos))
				sources = append(sources, name)
			}
			continue
		}
		frames = append(frames, x.pipeline(p))
		name := fmt.Sprintf("union_arg%d", len(sources))
		if ref, ok := p.Source.(*TableRef); ok && len(p.Ops) == 0 {
			name = ref.Name
		}
		sources = append(sources, name)
	}
	// One column per name; a name with several types is one column per
	// type, name_type (Kusto's union).
	var names []string
	types := map[string][]Type{}
	for _, f := range frames {
		for i, n := range f.names {
			if _, ok := types[n]; !ok {
				names = append(names, n)
				types[n] = nil
			}
			t := f.cols[i].Type()
			if t != TypeNull && !slices.Contains(types[n], t) {
				types[n] = append(types[n], t)
			}
		}
	}
	out := &frame{}
	for _, f := range frames {
		out.n += f.n
	}
	if o.WithSource != "" {
		vals := &Values{T: TypeString, Rows: make([]Value, 0, out.n)}
		for i, f := range frames {
			for r := 0; r < f.n; r++ {
				vals.Rows = append(vals.Rows, String(sources[i]))
			}
		}
		out.names = append(out.names, o.WithSource)
		out.cols = append(out.cols, vals)
	}
	for _, n := range names {
		ts := types[n]
		switch len(ts) {
		case 0:
			out.names = append(out.names, n)
			out.cols = append(out.cols, &concat{t: TypeString, parts: partsOf(frames, n, TypeNull)})
		case 1:
			out.names = append(out.names, n)
			out.cols = append(out.cols, &concat{t: ts[0], parts: partsOf(frames, n, ts[0])})
		default:
			for _, t := range ts {
				out.names = append(out.names, n+"_"+t.String())
				out.cols = append(out.cols, &concat{t: t, parts: partsOf(frames, n, t)})
			}
		}
	}
	return out
}

// concat is a column made of other frames' columns, one after another.
type concat struct {
	t     Type
	parts []part
}

type part struct {
	col Column // nil: the frame lacks the column
	n   int
}

// partsOf are the frames' columns of that name and type (a null-typed
// column joins any); a frame without one is nulls there.
func partsOf(frames []*frame, name string, t Type) []part {
	parts := make([]part, len(frames))
	for i, f := range frames {
		parts[i].n = f.n
		if j := f.index(name); j >= 0 {
			if ct := f.cols[j].Type(); ct == t || ct == TypeNull || t == TypeNull {
				parts[i].col = f.cols[j]
			}
		}
	}
	return parts
}

func (c *concat) Type() Type { return c.t }
func (c *concat) Value(row int) Value {
	for _, p := range c.parts {
		if row < p.n {
			if p.col == nil {
				return Null(c.t)
			}
			v := p.col.Value(row)
			if v.T != c.t {
				return castTo(v, c.t)
			}
			return v
		}
		row -= p.n
	}
	return Null(c.t)
}

func (x *execution) join(left *frame, o *JoinOp) *frame {
	right := x.pipeline(o.Right)
	lk := make([]int, len(o.On))
	rk := make([]int, len(o.On))
	for i, k := range o.On {
		lk[i], rk[i] = left.index(k.Left), right.index(k.Right)
		if lk[i] < 0 {
			x.fail(k.Pos, "join: the left side has no column %q", k.Left)
		}
		if rk[i] < 0 {
			x.fail(k.Pos, "join: the right side has no column %q", k.Right)
		}
		if lt, rt := left.cols[lk[i]].Type(), right.cols[rk[i]].Type(); lt != rt && !comparable(lt, rt) {
			x.fail(k.Pos, "join: %s is %s on the left and %s on the right", k.Left, lt, rt)
		}
	}
	keyOf := func(f *frame, idx []int, r int) string {
		var b strings.Builder
		for _, i := range idx {
			b.WriteString(groupKey(f.cols[i].Value(r)))
			b.WriteByte(0)
		}
		return b.String()
	}
	rightRows := map[string][]int{}
	var rightOrder []string
	for r := 0; r < right.n; r++ {
		k := keyOf(right, rk, r)
		if _, ok := rightRows[k]; !ok {
			rightOrder = append(rightOrder, k)
		}
		rightRows[k] = append(rightRows[k], r)
	}
	kind := o.Kind
	switch kind {
	case "anti", "leftantisemi":
		kind = "leftanti"
	case "rightantisemi":
		kind = "rightanti"
	}
	var lrows, rrows []int // -1: no row on that side
	seenLeft := map[string]bool{}
	matchedRight := map[string]bool{}
	for r := 0; r < left.n; r++ {
		k := keyOf(left, lk, r)
		if kind == "innerunique" {
			if seenLeft[k] {
				continue
			}
			seenLeft[k] = true
		}
		matches := rightRows[k]
		if len(matches) > 0 {
			matchedRight[k] = true
		}
		if len(lrows)+len(matches) > maxRows {
			x.fail(o.Pos, "join: more than %d rows; join on a key with fewer matches", maxRows)
		}
		switch kind {
		case "inner", "innerunique", "leftouter", "fullouter":
			for _, m := range matches {
				lrows, rrows = append(lrows, r), append(rrows, m)
			}
			if len(matches) == 0 && (kind == "leftouter" || kind == "fullouter") {
				lrows, rrows = append(lrows, r), append(rrows, -1)
			}
		case "leftanti":
			if len(matches) == 0 {
				lrows = append(lrows, r)
			}
		case "leftsemi":
			if len(matches) > 0 {
				lrows = append(lrows, r)
			}
		case "rightouter":
			for _, m := range matches {
				lrows, rrows = append(lrows, r), append(rrows, m)
			}
		}
	}
	switch kind {
	case "leftanti", "leftsemi":
		return left.selectRows(lrows)
	case "rightanti", "rightsemi":
		var rows []int
		for _, k := range rightOrder {
			if matchedRight[k] == (kind == "rightsemi") {
				rows = append(rows, rightRows[k]...)
			}
		}
		return right.selectRows(rows)
	case "rightouter", "fullouter":
		for _, k := range rightOrder {
			if !matchedRight[k] {
				for _, m := range rightRows[k] {
					lrows, rrows = append(lrows, -1), append(rrows, m)
				}
			}
		}
	}
	out := &frame{n: len(lrows)}
	for i, n := range left.names {
		out.names = append(out.names, n)
		out.cols = append(out.cols, &outer{base: left.cols[i], rows: lrows})
	}
	for i, n := range right.names {
		name := n
		for out.index(name) >= 0 {
			name += "1"
		}
		out.names = append(out.names, name)
		out.cols = append(out.cols, &outer{base: right.cols[i], rows: rrows})
	}
	return out
}

// outer is a view whose missing rows (-1) are null.
type outer struct {
	base Column
	rows []int
}

func (c *outer) Type() Type { return c.base.Type() }
func (c *outer) Value(row int) Value {
	if r := c.rows[row]; r >= 0 {
		return c.base.Value(r)
	}
	return Null(c.base.Type())
}

func (x *execution) mvExpand(f *frame, o *MvExpandOp) *frame {
	s := f.scope(x)
	type item struct {
		name string
		c    scalar
	}
	var items []item
	k := 0
	for _, it := range o.Items {
		c := s.compile(it.Expr)
		if c.t != TypeDynamic {
			s.fail(it.Expr.pos(), "mv-expand: %s is a %s, not a dynamic array or bag", c.name, c.t)
		}
		items = append(items, item{name: itemName(it, c, &k), c: c})
	}
	var rows []int
	expanded := make([][]Value, len(items))
	for r := 0; r < f.n; r++ {
		elems := make([][]any, len(items))
		longest := 0
		for i, it := range items {
			switch d := it.c.fn(r).D.(type) {
			case []any:
				elems[i] = d
			case map[string]any:
				for _, key := range sortedKeys(d) {
					elems[i] = append(elems[i], map[string]any{key: d[key]})
				}
			case nil:
			default:
				elems[i] = []any{d}
			}
			longest = max(longest, len(elems[i]))
		}
		if len(rows)+longest > maxRows {
			x.fail(o.Pos, "mv-expand: more than %d rows", maxRows)
		}
		// A row whose arrays are all empty stays, with nulls.
		for j := 0; j < max(longest, 1); j++ {
			rows = append(rows, r)
			for i := range items {
				v := Null(o.To)
				if j < len(elems[i]) {
					v = castTo(dynamicScalar(Dynamic(elems[i][j])), o.To)
					if o.To == TypeDynamic {
						v = Dynamic(elems[i][j])
					}
				}
				expanded[i] = append(expanded[i], v)
			}
		}
	}
	out := f.selectRows(rows)
	out.names = append([]string(nil), out.names...)
	for i, it := range items {
		col := &Values{T: o.To, Rows: expanded[i]}
		if j := out.index(it.name); j >= 0 {
			out.cols[j] = col
		} else {
			out.names = append(out.names, it.name)
			out.cols = append(out.cols, col)
		}
	}
	return out
}

func (x *execution) parse(f *frame, o *ParseOp) *frame {
	s := f.scope(x)
	src := s.compile(o.Source)
	var pattern strings.Builder
	pattern.WriteString("^")
	var cols []ParsePart
	for i, p := range o.Parts {
		switch {
		case p.Star:
			pattern.WriteString("(?:.*?)")
		case p.Column != "":
			if i == len(o.Parts)-1 {
				pattern.WriteString("(.*)$")
			} else {
				pattern.WriteString("(.*?)")
			}
			cols = append(cols, p)
		default:
			pattern.WriteString(regexp.QuoteMeta(p.Const))
		}
	}
	re := regexp.MustCompile("(?s)" + pattern.String())
	vals := make([]*Values, len(cols))
	for i, c := range cols {
		vals[i] = &Values{T: c.Type, Rows: make([]Value, f.n)}
	}
	for r := 0; r < f.n; r++ {
		m := re.FindStringSubmatch(src.fn(r).Text())
		for i, c := range cols {
			if m == nil {
				vals[i].Rows[r] = convert(Null(TypeString), c.Type)
				if c.Type != TypeString {
					vals[i].Rows[r] = Null(c.Type)
				}
				continue
			}
			vals[i].Rows[r] = convert(String(m[i+1]), c.Type)
		}
	}
	out := &frame{n: f.n, names: append([]string(nil), f.names...), cols: append([]Column(nil), f.cols...)}
	for i, c := range cols {
		if j := out.index(c.Column); j >= 0 {
			out.cols[j] = vals[i]
		} else {
			out.names = append(out.names, c.Column)
			out.cols = append(out.cols, vals[i])
		}
	}
	return out
}

// search keeps the rows where the term stands as a term in any column's
// text (Kusto's search is has, case-insensitive).
func (x *execution) search(f *frame, o *SearchOp) *frame {
	var rows []int
	for r := 0; r < f.n; r++ {
		for _, c := range f.cols {
			if hasTerm(c.Value(r).Text(), o.Term, false, true, true) {
				rows = append(rows, r)
				break
			}
		}
	}
	return f.selectRows(rows)
}

func (x *execution) rangeSource(r *RangeSource) *frame {
	s := (&frame{}).scope(x)
	from, to, step := s.compile(r.From), s.compile(r.To), s.compile(r.Step)
	if !from.konst || !to.konst || !step.konst {
		x.fail(r.Pos, "range: from, to and step are constants")
	}
	a, b, st := dynamicScalar(from.fn(0)), dynamicScalar(to.fn(0)), dynamicScalar(step.fn(0))
	t := a.T
	vals := &Values{T: t}
	most := maxRows
	switch {
	case t == TypeDatetime || t == TypeTimespan || t == TypeLong || t == TypeInt:
		if st.I <= 0 {
			x.fail(r.Pos, "range: the step is positive")
		}
		for v := a.I; v <= b.I && len(vals.Rows) < most; v += st.I {
			vals.Rows = append(vals.Rows, Value{T: t, I: v})
		}
		if t == TypeInt {
			vals.T = TypeLong
			for i := range vals.Rows {
				vals.Rows[i].T = TypeLong
			}
		}
	case t == TypeReal:
		for v := a.F; v <= b.asReal() && len(vals.Rows) < most; v += st.asReal() {
			vals.Rows = append(vals.Rows, Real(v))
		}
	default:
		x.fail(r.Pos, "range: from is a %s; expected a number, datetime or timespan", t)
	}
	if len(vals.Rows) >= most {
		x.fail(r.Pos, "range: more than %d rows", maxRows)
	}
	return &frame{n: len(vals.Rows), names: []string{r.Name}, cols: []Column{vals}}
}
