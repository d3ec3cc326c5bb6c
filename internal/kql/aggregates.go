// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// accumulator folds a group's rows into its results.
type accumulator interface {
	add(row int)
	results() []Value
}

// aggregation is a compiled aggregation: its result columns and a maker
// of one accumulator per group.
type aggregation struct {
	names []string
	types []Type
	new   func() accumulator
}

type aggregateFn func(s *scope, c *Call, name string) aggregation

var aggregates map[string]aggregateFn

func init() {
	aggregates = map[string]aggregateFn{
		"count": aggCount, "countif": aggCount,
		"dcount": aggDcount, "dcountif": aggDcount,
		"sum": aggSum, "sumif": aggSum,
		"avg": aggAvg, "avgif": aggAvg,
		"min": aggMinMax, "max": aggMinMax, "minif": aggMinMax, "maxif": aggMinMax,
		"percentile": aggPercentiles, "percentiles": aggPercentiles,
		"make_list": aggMakeList, "make_set": aggMakeList, "make_list_if": aggMakeList, "make_set_if": aggMakeList,
		"arg_max": aggArg, "arg_min": aggArg,
		"take_any": aggAny, "any": aggAny,
	}
}

// aggArgs compiles the call's arguments, checking their number.
func aggArgs(s *scope, c *Call, min, max int) []scalar {
	if len(c.Args) < min || len(c.Args) > max {
		s.fail(c.Pos, "%s() takes %d to %d arguments, not %d", c.Name, min, max, len(c.Args))
	}
	out := make([]scalar, len(c.Args))
	for i, a := range c.Args {
		out[i] = s.compile(a)
	}
	return out
}

// resultName is name, else prefix_<derived name of x>, as Kusto names
// sum(duration) sum_duration.
func resultName(name, prefix string, x scalar) string {
	if name != "" {
		return name
	}
	if x.name == "" {
		return prefix + "_"
	}
	return prefix + "_" + x.name
}

// predicate is an if-aggregation's condition, or always true.
func predicate(args []scalar, i int) func(int) bool {
	if i >= len(args) {
		return func(int) bool { return true }
	}
	p := args[i]
	return func(row int) bool { return dynamicScalar(p.fn(row)).truth() }
}

type funcAcc struct {
	addFn    func(int)
	resultFn func() []Value
}

func (a *funcAcc) add(row int)      { a.addFn(row) }
func (a *funcAcc) results() []Value { return a.resultFn() }

func aggCount(s *scope, c *Call, name string) aggregation {
	var args []scalar
	if c.Name == "countif" {
		args = aggArgs(s, c, 1, 1)
	} else {
		args = aggArgs(s, c, 0, 1) // count(x) counts rows where x is not null
	}
	if name == "" {
		name = c.Name + "_"
	}
	cond := predicate(args, 0)
	if c.Name == "count" && len(args) == 1 {
		x := args[0]
		cond = func(row int) bool { return !x.fn(row).Null }
	}
	return aggregation{names: []string{name}, types: []Type{TypeLong}, new: func() accumulator {
		n := int64(0)
		return &funcAcc{addFn: func(row int) {
			if cond(row) {
				n++
			}
		}, resultFn: func() []Value { return []Value{Long(n)} }}
	}}
}

func aggDcount(s *scope, c *Call, name string) aggregation {
	var args []scalar
	if c.Name == "dcountif" {
		args = aggArgs(s, c, 2, 3)
	} else {
		args = aggArgs(s, c, 1, 2) // the accuracy argument is accepted: here dcount is exact
	}
	x := args[0]
	cond := func(int) bool { return true }
	if c.Name == "dcountif" {
		cond = predicate(args, 1)
	}
	return aggregation{names: []string{resultName(name, c.Name, x)}, types: []Type{TypeLong}, new: func() accumulator {
		seen := map[string]struct{}{}
		return &funcAcc{addFn: func(row int) {
			if !cond(row) {
				return
			}
			v := x.fn(row)
			if isEmpty(v) && v.T != TypeString || v.Null {
				return
			}
			seen[groupKey(v)] = struct{}{}
		}, resultFn: func() []Value { return []Value{Long(int64(len(seen)))} }}
	}}
}

func numericResult(s *scope, c *Call, x scalar) Type {
	switch {
	case x.t == TypeInt || x.t == TypeLong:
		return TypeLong
	case x.t == TypeReal || x.t == TypeDynamic || x.t == TypeNull:
		return TypeReal
	case x.t == TypeTimespan:
		return TypeTimespan
	}
	s.fail(c.Pos, "%s() of a %s: expected a number or a timespan", c.Name, x.t)
	return TypeNull
}

func aggSum(s *scope, c *Call, name string) aggregation {
	args := aggArgs(s, c, 1+boolToInt(c.Name == "sumif"), 1+boolToInt(c.Name == "sumif"))
	x := args[0]
	cond := predicate(args, 1)
	t := numericResult(s, c, x)
	return aggregation{names: []string{resultName(name, c.Name, x)}, types: []Type{t}, new: func() accumulator {
		var i int64
		var f float64
		any := false
		return &funcAcc{addFn: func(row int) {
			if !cond(row) {
				return
			}
			v := dynamicScalar(x.fn(row))
			if v.Null || !arithOperand(v) {
				return
			}
			any = true
			if t == TypeReal {
				f += v.asReal()
			} else {
				i += v.I
			}
		}, resultFn: func() []Value {
			if !any {
				return []Value{Null(t)}
			}
			if t == TypeReal {
				return []Value{Real(f)}
			}
			return []Value{{T: t, I: i}}
		}}
	}}
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func aggAvg(s *scope, c *Call, name string) aggregation {
	args := aggArgs(s, c, 1+boolToInt(c.Name == "avgif"), 1+boolToInt(c.Name == "avgif"))
	x := args[0]
	cond := predicate(args, 1)
	t := numericResult(s, c, x)
	if t != TypeTimespan {
		t = TypeReal
	}
	return aggregation{names: []string{resultName(name, c.Name, x)}, types: []Type{t}, new: func() accumulator {
		sum, n := 0.0, 0
		return &funcAcc{addFn: func(row int) {
			if !cond(row) {
				return
			}
			v := dynamicScalar(x.fn(row))
			if v.Null || !arithOperand(v) {
				return
			}
			sum += v.asReal()
			n++
		}, resultFn: func() []Value {
			if n == 0 {
				return []Value{Null(t)}
			}
			if t == TypeTimespan {
				return []Value{{T: t, I: int64(math.Round(sum / float64(n)))}}
			}
			return []Value{Real(sum / float64(n))}
		}}
	}}
}

func aggMinMax(s *scope, c *Call, name string) aggregation {
	isIf := strings.HasSuffix(c.Name, "if")
	args := aggArgs(s, c, 1+boolToInt(isIf), 1+boolToInt(isIf))
	x := args[0]
	cond := predicate(args, 1)
	wantMax := strings.HasPrefix(c.Name, "max")
	t := x.t
	return aggregation{names: []string{resultName(name, c.Name, x)}, types: []Type{t}, new: func() accumulator {
		best, have := Null(t), false
		return &funcAcc{addFn: func(row int) {
			if !cond(row) {
				return
			}
			v := x.fn(row)
			if v.Null {
				return
			}
			if !have {
				best, have = v, true
				return
			}
			if cmp, ok := compare(v, best); ok && (cmp > 0) == wantMax && cmp != 0 {
				best = v
			}
		}, resultFn: func() []Value { return []Value{best} }}
	}}
}

func aggPercentiles(s *scope, c *Call, name string) aggregation {
	args := aggArgs(s, c, 2, 64)
	if c.Name == "percentile" && len(args) != 2 {
		s.fail(c.Pos, "percentile() takes 2 arguments; percentiles() takes several")
	}
	x := args[0]
	var ps []float64
	var names []string
	var types []Type
	for i, a := range args[1:] {
		if !a.konst {
			s.fail(c.Args[i+1].pos(), "%s(): the percentile is a constant from 0 to 100", c.Name)
		}
		v := dynamicScalar(a.fn(0))
		if !v.T.numeric() || v.asReal() < 0 || v.asReal() > 100 {
			s.fail(c.Args[i+1].pos(), "%s(): the percentile is a constant from 0 to 100", c.Name)
		}
		p := v.asReal()
		ps = append(ps, p)
		n := name
		if n == "" || len(args) > 2 {
			n = "percentile_" + x.name + "_" + strings.ReplaceAll(strconv.FormatFloat(p, 'f', -1, 64), ".", "_")
		}
		names = append(names, n)
		types = append(types, x.t)
	}
	return aggregation{names: names, types: types, new: func() accumulator {
		var vals []Value
		return &funcAcc{addFn: func(row int) {
			if v := x.fn(row); !v.Null {
				vals = append(vals, v)
			}
		}, resultFn: func() []Value {
			sort.SliceStable(vals, func(i, j int) bool { c, _ := compare(vals[i], vals[j]); return c < 0 })
			out := make([]Value, len(ps))
			for i, p := range ps {
				if len(vals) == 0 {
					out[i] = Null(x.t)
					continue
				}
				// Nearest rank: the smallest value with at least p % of the
				// values at or below it.
				rank := int(math.Ceil(p / 100 * float64(len(vals))))
				out[i] = vals[max(rank, 1)-1]
			}
			return out
		}}
	}}
}

func aggMakeList(s *scope, c *Call, name string) aggregation {
	isIf := strings.HasSuffix(c.Name, "_if")
	args := aggArgs(s, c, 1+boolToInt(isIf), 2+boolToInt(isIf))
	x := args[0]
	cond := func(int) bool { return true }
	if isIf {
		cond = predicate(args, 1)
	}
	limit := 1048576
	if last := len(args) - 1; last == 1+boolToInt(isIf) {
		if !args[last].konst {
			s.fail(c.Args[last].pos(), "%s(): the most items is a constant", c.Name)
		}
		limit = int(convert(args[last].fn(0), TypeLong).I)
	}
	set := strings.HasPrefix(c.Name, "make_set")
	prefix := "list"
	if set {
		prefix = "set"
	}
	return aggregation{names: []string{resultName(name, prefix, x)}, types: []Type{TypeDynamic}, new: func() accumulator {
		list := []any{}
		seen := map[string]bool{}
		return &funcAcc{addFn: func(row int) {
			if !cond(row) || len(list) >= limit {
				return
			}
			v := x.fn(row)
			if v.Null {
				return
			}
			if set {
				k := groupKey(v)
				if seen[k] {
					return
				}
				seen[k] = true
			}
			list = append(list, toDynamic(v))
		}, resultFn: func() []Value { return []Value{Dynamic(list)} }}
	}}
}

func aggAny(s *scope, c *Call, name string) aggregation {
	args := aggArgs(s, c, 1, 1)
	x := args[0]
	n := name
	if n == "" {
		n = x.name
		if c.Name == "any" {
			n = resultName("", "any", x)
		}
		if n == "" {
			n = "Column1"
		}
	}
	return aggregation{names: []string{n}, types: []Type{x.t}, new: func() accumulator {
		got, have := Null(x.t), false
		return &funcAcc{addFn: func(row int) {
			if !have {
				got, have = x.fn(row), true
			}
		}, resultFn: func() []Value { return []Value{got} }}
	}}
}

// aggArg is arg_max / arg_min: the row with the largest (smallest) value,
// and the columns asked for from it (* for all but the by columns).
func aggArg(s *scope, c *Call, name string) aggregation {
	if len(c.Args) < 2 {
		s.fail(c.Pos, "%s() takes the expression to maximise and the columns to return (or *)", c.Name)
	}
	x := s.compile(c.Args[0])
	first := x.name
	if name != "" {
		first = name
	}
	if first == "" {
		first = strings.TrimPrefix(c.Name, "arg_") + "_"
	}
	names := []string{first}
	types := []Type{x.t}
	var outs []scalar
	for _, a := range c.Args[1:] {
		if _, ok := a.(*Star); ok {
			for i, n := range s.names {
				if n == first || s.q.byNames[n] {
					continue
				}
				names = append(names, n)
				types = append(types, s.cols[i].Type())
				col := s.cols[i]
				outs = append(outs, scalar{fn: col.Value, t: col.Type()})
			}
			continue
		}
		o := s.compile(a)
		if o.name == "" {
			s.fail(a.pos(), "%s(): name what it returns (n = expr)", c.Name)
		}
		names = append(names, o.name)
		types = append(types, o.t)
		outs = append(outs, o)
	}
	wantMax := c.Name == "arg_max"
	return aggregation{names: names, types: types, new: func() accumulator {
		bestRow := -1
		var best Value
		return &funcAcc{addFn: func(row int) {
			v := x.fn(row)
			if v.Null {
				return
			}
			if bestRow < 0 {
				bestRow, best = row, v
				return
			}
			if cmp, ok := compare(v, best); ok && cmp != 0 && (cmp > 0) == wantMax {
				bestRow, best = row, v
			}
		}, resultFn: func() []Value {
			out := make([]Value, len(names))
			if bestRow < 0 {
				for i, t := range types {
					out[i] = Null(t)
				}
				return out
			}
			out[0] = best
			for i, o := range outs {
				out[i+1] = o.fn(bestRow)
			}
			return out
		}}
	}}
}
