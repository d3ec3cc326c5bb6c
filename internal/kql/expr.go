// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"math"
	"regexp"
	"strings"
	"unicode"
)

// evalFn computes an expression for one row of its frame.
type evalFn func(row int) Value

// scalar is a compiled expression: how to compute it, its type, and the
// column name Kusto derives from it.
type scalar struct {
	fn    evalFn
	t     Type
	name  string // "" when Kusto would name it Column1, ...
	konst bool   // the same on every row (literals, lets, now())
	col   Column // set when the expression is a column (or a property of one)
}

// scope is what an expression can name: the frame's columns, the
// query's scalar lets, and the query's clock.
type scope struct {
	q     *execution
	names []string
	cols  []Column
}

func (s *scope) column(name string) (Column, bool) {
	for i, n := range s.names {
		if n == name {
			return s.cols[i], true
		}
	}
	return nil, false
}

func (s *scope) fail(pos int, format string, args ...any) {
	panic(bail{errorAt(s.q.text, pos, format, args...)})
}

func konst(v Value, name string) scalar {
	return scalar{fn: func(int) Value { return v }, t: v.T, name: name, konst: true}
}

func (s *scope) compile(e Expr) scalar {
	switch x := e.(type) {
	case *Literal:
		return konst(x.Value, "")
	case *Ident:
		if c, ok := s.column(x.Name); ok {
			return scalar{fn: c.Value, t: c.Type(), name: x.Name, col: c}
		}
		if v, ok := s.q.lets[x.Name]; ok {
			return konst(v, x.Name)
		}
		if _, ok := s.q.tabularLets[x.Name]; ok {
			s.fail(x.Pos, "%s is a tabular expression, not a scalar", x.Name)
		}
		s.fail(x.Pos, "unknown column or name %q", x.Name)
	case *Member:
		return s.member(s.compile(x.X), x.Name, x.Pos)
	case *IndexExpr:
		base := s.compile(x.X)
		key := s.compile(x.Key)
		if key.konst && (key.t == TypeString) {
			return s.member(base, key.fn(0).S, x.Pos)
		}
		if base.t != TypeDynamic {
			s.fail(x.Pos, "[] indexes a dynamic value, not a %s", base.t)
		}
		return scalar{t: TypeDynamic, fn: func(row int) Value {
			return index(base.fn(row), dynamicScalar(key.fn(row)))
		}}
	case *Unary:
		inner := s.compile(x.X)
		if !inner.t.numeric() && inner.t != TypeTimespan && inner.t != TypeDynamic && inner.t != TypeNull {
			s.fail(x.Pos, "unary '-' does not apply to %s", inner.t)
		}
		return scalar{t: inner.t, fn: func(row int) Value {
			v := dynamicScalar(inner.fn(row))
			if v.Null {
				return v
			}
			if v.T == TypeReal {
				v.F = -v.F
			} else {
				v.I = -v.I
			}
			return v
		}}
	case *Binary:
		return s.binary(x)
	case *InExpr:
		return s.in(x, "")
	case *hasList:
		return s.in(&x.InExpr, x.Op)
	case *Between:
		return s.between(x)
	case *Call:
		return s.call(x)
	case *Star:
		s.fail(x.Pos, "'*' is only an argument of an aggregation (arg_max(x, *))")
	case *NamedArg:
		c := s.compile(x.X)
		c.name = x.Name
		return c
	}
	s.fail(e.pos(), "unsupported expression")
	return scalar{}
}

func (s *scope) member(base scalar, name string, pos int) scalar {
	if base.t != TypeDynamic {
		s.fail(pos, "'.%s': %s is a %s, not a dynamic value", name, base.name, base.t)
	}
	derived := ""
	if base.name != "" {
		derived = base.name + "_" + name
	}
	if pc, ok := base.col.(PropertyColumn); ok {
		c := pc.Property(name)
		return scalar{fn: c.Value, t: TypeDynamic, name: derived, col: c}
	}
	return scalar{t: TypeDynamic, name: derived, fn: func(row int) Value {
		return property(base.fn(row), name)
	}}
}

func property(v Value, name string) Value {
	if bag, ok := v.D.(map[string]any); ok && v.T == TypeDynamic {
		return Dynamic(bag[name])
	}
	return Null(TypeDynamic)
}

func index(v Value, key Value) Value {
	if v.T != TypeDynamic || key.Null {
		return Null(TypeDynamic)
	}
	switch d := v.D.(type) {
	case []any:
		if key.T != TypeLong && key.T != TypeInt {
			return Null(TypeDynamic)
		}
		i := key.I
		if i < 0 {
			i += int64(len(d))
		}
		if i < 0 || i >= int64(len(d)) {
			return Null(TypeDynamic)
		}
		return Dynamic(d[i])
	case map[string]any:
		return Dynamic(d[key.Text()])
	}
	return Null(TypeDynamic)
}

// comparable reports whether Kusto compares the two types at all; a
// dynamic meets anything, and is compared by its value at run time.
func comparable(a, b Type) bool {
	switch {
	case a == TypeDynamic || b == TypeDynamic || a == TypeNull || b == TypeNull:
		return true
	case a.numeric() && b.numeric():
		return true
	}
	return a == b
}

func (s *scope) binary(x *Binary) scalar {
	l, r := s.compile(x.L), s.compile(x.R)
	switch x.Op {
	case "and", "or":
		for _, side := range []scalar{l, r} {
			if side.t != TypeBool && side.t != TypeDynamic && side.t != TypeNull {
				s.fail(x.Pos, "'%s' needs bool operands, not %s", x.Op, side.t)
			}
		}
		and := x.Op == "and"
		return scalar{t: TypeBool, fn: func(row int) Value {
			a := dynamicScalar(l.fn(row))
			if !a.Null && (a.I != 0) != and {
				return Bool(!and) // false and _, true or _
			}
			b := dynamicScalar(r.fn(row))
			if !b.Null && (b.I != 0) != and {
				return Bool(!and)
			}
			if a.Null || b.Null {
				return Null(TypeBool)
			}
			return Bool(and)
		}}
	case "==", "!=", "<", "<=", ">", ">=":
		if !comparable(l.t, r.t) {
			s.fail(x.Pos, "cannot compare %s with %s ('%s')", l.t, r.t, x.Op)
		}
		op := x.Op
		return scalar{t: TypeBool, fn: func(row int) Value {
			a, b := l.fn(row), r.fn(row)
			// Kusto: null == value is false, null != value is true; two
			// nulls, and an order with a null, are null.
			if a.Null != b.Null && (op == "==" || op == "!=") {
				return Bool(op == "!=")
			}
			c, ok := compare(a, b)
			if !ok {
				return Null(TypeBool)
			}
			switch op {
			case "==":
				return Bool(c == 0)
			case "!=":
				return Bool(c != 0)
			case "<":
				return Bool(c < 0)
			case "<=":
				return Bool(c <= 0)
			case ">":
				return Bool(c > 0)
			}
			return Bool(c >= 0)
		}}
	case "=~", "!~":
		neg := x.Op == "!~"
		return scalar{t: TypeBool, fn: func(row int) Value {
			a, b := l.fn(row), r.fn(row)
			if a.T == TypeDynamic && a.Null || b.T == TypeDynamic && b.Null {
				return Null(TypeBool)
			}
			return Bool(strings.EqualFold(a.Text(), b.Text()) != neg)
		}}
	case "matches regex":
		if !r.konst {
			s.fail(x.R.pos(), "matches regex: the pattern must be a constant string")
		}
		re, err := regexp.Compile(r.fn(0).Text())
		if err != nil {
			s.fail(x.R.pos(), "matches regex: %v", err)
		}
		return scalar{t: TypeBool, fn: func(row int) Value { return Bool(re.MatchString(l.fn(row).Text())) }}
	case "+", "-", "*", "/", "%":
		return s.arithmetic(x, l, r)
	}
	neg := strings.HasPrefix(x.Op, "!")
	match := stringMatcher(strings.TrimPrefix(x.Op, "!"))
	if match == nil {
		s.fail(x.Pos, "unknown operator %q", x.Op)
	}
	if r.konst {
		needle := r.fn(0).Text()
		return scalar{t: TypeBool, fn: func(row int) Value {
			return Bool(match(l.fn(row).Text(), needle) != neg)
		}}
	}
	return scalar{t: TypeBool, fn: func(row int) Value {
		return Bool(match(l.fn(row).Text(), r.fn(row).Text()) != neg)
	}}
}

// stringMatcher is a string operator's test of (haystack, needle).
func stringMatcher(op string) func(string, string) bool {
	switch op {
	case "has":
		return func(h, n string) bool { return hasTerm(h, n, false, true, true) }
	case "has_cs":
		return func(h, n string) bool { return hasTerm(h, n, true, true, true) }
	case "hasprefix":
		return func(h, n string) bool { return hasTerm(h, n, false, true, false) }
	case "hasprefix_cs":
		return func(h, n string) bool { return hasTerm(h, n, true, true, false) }
	case "hassuffix":
		return func(h, n string) bool { return hasTerm(h, n, false, false, true) }
	case "hassuffix_cs":
		return func(h, n string) bool { return hasTerm(h, n, true, false, true) }
	case "contains":
		return func(h, n string) bool { return containsFold(h, n) }
	case "contains_cs":
		return strings.Contains
	case "startswith":
		return func(h, n string) bool { return len(h) >= len(n) && strings.EqualFold(h[:len(n)], n) }
	case "startswith_cs":
		return strings.HasPrefix
	case "endswith":
		return func(h, n string) bool { return len(h) >= len(n) && strings.EqualFold(h[len(h)-len(n):], n) }
	case "endswith_cs":
		return strings.HasSuffix
	}
	return nil
}

func isTermChar(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm is Kusto's has: the needle stands as a whole term (or, for
// hasprefix and hassuffix, at a term's start or end), not inside one: a
// term is a run of letters and digits. "error" has "error" but not
// "errors"; "a-b" has "b".
func hasTerm(hay, needle string, caseSensitive, atStart, atEnd bool) bool {
	if needle == "" {
		return true
	}
	h, n := hay, needle
	if !caseSensitive {
		h, n = strings.ToLower(hay), strings.ToLower(needle)
	}
	for from := 0; from <= len(h)-len(n); {
		i := strings.Index(h[from:], n)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(n)
		before := i == 0 || !isTermChar(lastRune(h[:i]))
		after := end == len(h) || !isTermChar(firstRune(h[end:]))
		if (!atStart || before) && (!atEnd || after) {
			return true
		}
		from = i + 1
	}
	return false
}

func lastRune(s string) rune {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return []rune(s[i:])[0]
		}
	}
	return 0
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func containsFold(h, n string) bool {
	if n == "" {
		return true
	}
	return strings.Contains(strings.ToLower(h), strings.ToLower(n))
}

func (s *scope) arithmetic(x *Binary, l, r scalar) scalar {
	op := x.Op
	t, ok := arithmeticType(op, l.t, r.t)
	if !ok {
		s.fail(x.Pos, "'%s' does not apply to %s and %s", op, l.t, r.t)
	}
	return scalar{t: t, fn: func(row int) Value {
		a, b := dynamicScalar(l.fn(row)), dynamicScalar(r.fn(row))
		if a.Null || b.Null || !arithOperand(a) || !arithOperand(b) {
			return Null(t) // a dynamic string, bag or array computes nothing
		}
		return arith(op, a, b, t)
	}}
}

func arithOperand(v Value) bool {
	return v.T.numeric() || v.T == TypeDatetime || v.T == TypeTimespan
}

func arithmeticType(op string, a, b Type) (Type, bool) {
	switch {
	case a == TypeNull || b == TypeNull:
		if a == TypeNull {
			return b, true
		}
		return a, true
	case a == TypeDynamic || b == TypeDynamic:
		return TypeReal, true
	case a.numeric() && b.numeric():
		switch {
		case a == TypeReal || b == TypeReal:
			return TypeReal, true
		case a == TypeLong || b == TypeLong:
			return TypeLong, true
		}
		return TypeInt, true
	case a == TypeDatetime && b == TypeDatetime && op == "-":
		return TypeTimespan, true
	case a == TypeDatetime && b == TypeTimespan && (op == "+" || op == "-"):
		return TypeDatetime, true
	case a == TypeTimespan && b == TypeDatetime && op == "+":
		return TypeDatetime, true
	case a == TypeTimespan && b == TypeTimespan:
		if op == "/" {
			return TypeReal, true
		}
		return TypeTimespan, op == "+" || op == "-" || op == "%"
	case a == TypeTimespan && b.numeric() && (op == "*" || op == "/"):
		return TypeTimespan, true
	case a.numeric() && b == TypeTimespan && op == "*":
		return TypeTimespan, true
	}
	return TypeNull, false
}

func arith(op string, a, b Value, t Type) Value {
	if t == TypeReal || (a.T == TypeReal || b.T == TypeReal) && t != TypeTimespan && t != TypeDatetime {
		x, y := a.asReal(), b.asReal()
		if a.T == TypeTimespan && b.T == TypeTimespan {
			return Real(float64(a.I) / float64(b.I))
		}
		var f float64
		switch op {
		case "+":
			f = x + y
		case "-":
			f = x - y
		case "*":
			f = x * y
		case "/":
			f = x / y
		case "%":
			f = math.Mod(x, y)
		}
		return Real(f)
	}
	if t == TypeTimespan && (a.T == TypeReal || b.T == TypeReal) {
		x, y := a.asReal(), b.asReal()
		if op == "*" {
			return Value{T: t, I: int64(x * y)}
		}
		return Value{T: t, I: int64(x / y)}
	}
	x, y := a.I, b.I
	var i int64
	switch op {
	case "+":
		i = x + y
	case "-":
		i = x - y
	case "*":
		i = x * y
	case "/":
		if y == 0 {
			return Null(t)
		}
		i = x / y
	case "%":
		if y == 0 {
			return Null(t)
		}
		i = x % y
	}
	if t == TypeInt {
		return Int(i)
	}
	return Value{T: t, I: i}
}

func (s *scope) in(x *InExpr, hasOp string) scalar {
	subject := s.compile(x.X)
	var list []Value
	for _, e := range x.List {
		c := s.compile(e)
		if !c.konst {
			s.fail(e.pos(), "in: the list holds constants only")
		}
		v := c.fn(0)
		if arr, ok := v.D.([]any); ok && v.T == TypeDynamic {
			for _, d := range arr {
				list = append(list, dynamicScalar(Dynamic(d)))
			}
			continue
		}
		list = append(list, v)
	}
	if hasOp != "" {
		all := hasOp == "has_all"
		return scalar{t: TypeBool, fn: func(row int) Value {
			h := subject.fn(row).Text()
			for _, n := range list {
				if hasTerm(h, n.Text(), false, true, true) != all {
					return Bool(!all)
				}
			}
			return Bool(all)
		}}
	}
	not, ci := x.Not, x.CI
	return scalar{t: TypeBool, fn: func(row int) Value {
		v := subject.fn(row)
		if v.Null {
			return Bool(not) // a null is in no list
		}
		for _, w := range list {
			if ci {
				if strings.EqualFold(v.Text(), w.Text()) {
					return Bool(!not)
				}
			} else if c, ok := compare(v, w); ok && c == 0 {
				return Bool(!not)
			}
		}
		return Bool(not)
	}}
}

func (s *scope) between(x *Between) scalar {
	v, lo, hi := s.compile(x.X), s.compile(x.Lo), s.compile(x.Hi)
	if !comparable(v.t, lo.t) || !comparable(v.t, hi.t) {
		s.fail(x.Pos, "between: cannot compare %s with %s..%s", v.t, lo.t, hi.t)
	}
	not := x.Not
	return scalar{t: TypeBool, fn: func(row int) Value {
		val := v.fn(row)
		a, ok1 := compare(val, lo.fn(row))
		b, ok2 := compare(val, hi.fn(row))
		if !ok1 || !ok2 {
			return Null(TypeBool)
		}
		return Bool((a >= 0 && b <= 0) != not)
	}}
}
