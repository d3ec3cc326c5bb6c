// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// function compiles a call of a scalar function from its compiled
// arguments; it checks their number and types, and fails naming itself.
type function func(s *scope, c *Call, args []scalar) scalar

var functions map[string]function

func init() {
	functions = map[string]function{
		"ago": fnAgo, "now": fnNow,
		"bin": fnBin, "floor": fnBin,
		"startofday": fnStartOf, "startofweek": fnStartOf, "startofmonth": fnStartOf, "startofyear": fnStartOf,
		"endofday":      fnEndOfDay,
		"datetime_diff": fnDatetimeDiff, "datetime_add": fnDatetimeAdd, "format_datetime": fnFormatDatetime,
		"dayofweek": fnDayOfWeek, "hourofday": fnDatePart, "getmonth": fnDatePart, "getyear": fnDatePart, "dayofmonth": fnDatePart,
		"tostring": fnConvert(TypeString), "toint": fnConvert(TypeInt), "tolong": fnConvert(TypeLong),
		"todouble": fnConvert(TypeReal), "toreal": fnConvert(TypeReal), "tobool": fnConvert(TypeBool), "toboolean": fnConvert(TypeBool),
		"todatetime": fnConvert(TypeDatetime), "totimespan": fnConvert(TypeTimespan),
		"todynamic": fnParseJSON, "parse_json": fnParseJSON, "todecimal": fnConvert(TypeReal),
		"strlen": fnStrlen, "substring": fnSubstring, "tolower": fnCase(strings.ToLower), "toupper": fnCase(strings.ToUpper),
		"strcat": fnStrcat, "split": fnSplit, "extract": fnExtract, "replace_string": fnReplaceString,
		"trim": fnTrim, "trim_start": fnTrim, "trim_end": fnTrim, "indexof": fnIndexOf,
		"iff": fnIff, "iif": fnIff, "case": fnCaseWhen, "coalesce": fnCoalesce,
		"isempty": fnEmpty(true), "isnotempty": fnEmpty(false), "isnull": fnNull(true), "isnotnull": fnNull(false),
		"not":      fnNot,
		"bag_keys": fnBagKeys, "array_length": fnArrayLength,
		"round": fnRound, "abs": fnAbs,
	}
}

func (s *scope) call(c *Call) scalar {
	if _, ok := aggregates[c.Name]; ok {
		s.fail(c.Pos, "%s() is an aggregation: use it in summarize", c.Name)
	}
	if c.Name == "typeof" {
		// typeof(long): a type, as extract() and mv-expand take it.
		if len(c.Args) == 1 {
			if id, ok := c.Args[0].(*Ident); ok {
				if t, ok := typeByName(id.Name); ok {
					return konst(Null(t), "")
				}
			}
		}
		s.fail(c.Pos, "typeof() names a type: typeof(long), typeof(string), ...")
	}
	fn, ok := functions[c.Name]
	if !ok {
		s.fail(c.Pos, "unknown or unsupported function %s()", c.Name)
	}
	args := make([]scalar, len(c.Args))
	for i, a := range c.Args {
		args[i] = s.compile(a)
	}
	out := fn(s, c, args)
	if out.name == "" && len(args) > 0 && c.Name != "strcat" {
		out.name = args[0].name // tostring(customDimensions.Level) is customDimensions_Level
	}
	return out
}

func arity(s *scope, c *Call, args []scalar, min, max int) {
	if len(args) < min || len(args) > max {
		want := strconv.Itoa(min)
		if max != min {
			if max > 99 {
				want = fmt.Sprintf("at least %d", min)
			} else {
				want = fmt.Sprintf("%d to %d", min, max)
			}
		}
		s.fail(c.Pos, "%s() takes %s arguments, not %d", c.Name, want, len(args))
	}
}

func wantType(s *scope, c *Call, a scalar, i int, types ...Type) {
	if a.t == TypeDynamic || a.t == TypeNull {
		return
	}
	for _, t := range types {
		if a.t == t || t.numeric() && a.t.numeric() {
			return
		}
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.String()
	}
	s.fail(c.Args[i].pos(), "%s(): argument %d is %s, expected %s", c.Name, i+1, a.t, strings.Join(names, " or "))
}

func unary1(t Type, f func(Value) Value, a scalar) scalar {
	return scalar{t: t, konst: a.konst, fn: func(row int) Value { return f(dynamicScalar(a.fn(row))) }}
}

func fnNow(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 0, 1)
	now := s.q.now
	if len(args) == 1 {
		wantType(s, c, args[0], 0, TypeTimespan)
		now += args[0].fn(0).I
	}
	return konst(Value{T: TypeDatetime, I: now}, "")
}

func fnAgo(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeTimespan)
	now := s.q.now
	return unary1(TypeDatetime, func(v Value) Value {
		if v.Null {
			return Null(TypeDatetime)
		}
		return Value{T: TypeDatetime, I: now - v.I}
	}, args[0])
}

func fnBin(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 2)
	x, size := args[0], args[1]
	wantType(s, c, x, 0, TypeLong, TypeDatetime, TypeTimespan)
	t := x.t
	if t == TypeDynamic {
		t = TypeReal
	}
	return scalar{t: t, name: x.name, fn: func(row int) Value {
		v, b := dynamicScalar(x.fn(row)), dynamicScalar(size.fn(row))
		if v.Null || b.Null {
			return Null(t)
		}
		switch {
		case v.T == TypeDatetime:
			if b.I <= 0 {
				return Null(t)
			}
			// Kusto's datetimes count from 0001-01-01 (a Monday): bins
			// of 7d start on Mondays.
			return Value{T: v.T, I: floorDiv(v.I+netEpoch, b.I)*b.I - netEpoch}
		case v.T == TypeTimespan:
			if b.I <= 0 {
				return Null(t)
			}
			return Value{T: v.T, I: floorDiv(v.I, b.I) * b.I}
		case v.T == TypeReal || b.T == TypeReal:
			step := b.asReal()
			if step <= 0 {
				return Null(t)
			}
			f := math.Floor(v.asReal()/step) * step
			if t == TypeReal {
				return Real(f)
			}
			return Value{T: t, I: int64(f)}
		default:
			if b.I <= 0 {
				return Null(t)
			}
			return Value{T: v.T, I: floorDiv(v.I, b.I) * b.I}
		}
	}}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func datetimeFn(s *scope, c *Call, args []scalar, f func(time.Time) time.Time) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeDatetime)
	return unary1(TypeDatetime, func(v Value) Value {
		if v.Null || v.T != TypeDatetime {
			return Null(TypeDatetime)
		}
		return Datetime(f(v.Time()))
	}, args[0])
}

func fnStartOf(s *scope, c *Call, args []scalar) scalar {
	return datetimeFn(s, c, args, func(t time.Time) time.Time {
		y, m, d := t.Date()
		switch c.Name {
		case "startofweek":
			day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			return day.AddDate(0, 0, -int(day.Weekday()))
		case "startofmonth":
			return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		case "startofyear":
			return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	})
}

func fnEndOfDay(s *scope, c *Call, args []scalar) scalar {
	return datetimeFn(s, c, args, func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Add(-tick)
	})
}

func fnDayOfWeek(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeDatetime)
	return unary1(TypeTimespan, func(v Value) Value {
		if v.Null || v.T != TypeDatetime {
			return Null(TypeTimespan)
		}
		return Value{T: TypeTimespan, I: int64(v.Time().Weekday()) * ticksPerDay}
	}, args[0])
}

func fnDatePart(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeDatetime)
	return unary1(TypeInt, func(v Value) Value {
		if v.Null || v.T != TypeDatetime {
			return Null(TypeInt)
		}
		t := v.Time()
		switch c.Name {
		case "hourofday":
			return Int(int64(t.Hour()))
		case "getmonth":
			return Int(int64(t.Month()))
		case "getyear":
			return Int(int64(t.Year()))
		}
		return Int(int64(t.Day()))
	}, args[0])
}

// truncate cuts a time down to the start of its period.
func truncate(t time.Time, period string) (time.Time, bool) {
	y, m, d := t.Date()
	switch period {
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true
	case "quarter":
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC), true
	case "month":
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC), true
	case "week":
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return day.AddDate(0, 0, -int(day.Weekday())), true
	case "day":
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
	case "hour":
		return t.Truncate(time.Hour), true
	case "minute":
		return t.Truncate(time.Minute), true
	case "second":
		return t.Truncate(time.Second), true
	case "millisecond":
		return t.Truncate(time.Millisecond), true
	}
	return t, false
}

func fnDatetimeDiff(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 3, 3)
	if !args[0].konst || args[0].t != TypeString {
		s.fail(c.Pos, "datetime_diff(): the period is a constant string ('day', 'hour', ...)")
	}
	period := strings.ToLower(args[0].fn(0).S)
	if _, ok := truncate(time.Time{}, period); !ok {
		s.fail(c.Args[0].pos(), "datetime_diff(): unknown period %q", period)
	}
	wantType(s, c, args[1], 1, TypeDatetime)
	wantType(s, c, args[2], 2, TypeDatetime)
	return scalar{t: TypeLong, fn: func(row int) Value {
		a, b := dynamicScalar(args[1].fn(row)), dynamicScalar(args[2].fn(row))
		if a.Null || b.Null || a.T != TypeDatetime || b.T != TypeDatetime {
			return Null(TypeLong)
		}
		x, _ := truncate(a.Time(), period)
		y, _ := truncate(b.Time(), period)
		switch period {
		case "year":
			return Long(int64(x.Year() - y.Year()))
		case "quarter":
			return Long(int64((x.Year()-y.Year())*4 + (int(x.Month())-int(y.Month()))/3))
		case "month":
			return Long(int64((x.Year()-y.Year())*12 + int(x.Month()) - int(y.Month())))
		case "week":
			return Long(int64(x.Sub(y).Hours() / (24 * 7)))
		case "day":
			return Long(int64(x.Sub(y).Hours() / 24))
		case "hour":
			return Long(int64(x.Sub(y) / time.Hour))
		case "minute":
			return Long(int64(x.Sub(y) / time.Minute))
		case "second":
			return Long(int64(x.Sub(y) / time.Second))
		}
		return Long(int64(x.Sub(y) / time.Millisecond))
	}}
}

func fnDatetimeAdd(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 3, 3)
	if !args[0].konst || args[0].t != TypeString {
		s.fail(c.Pos, "datetime_add(): the period is a constant string ('day', 'hour', ...)")
	}
	period := strings.ToLower(args[0].fn(0).S)
	if _, ok := truncate(time.Time{}, period); !ok {
		s.fail(c.Args[0].pos(), "datetime_add(): unknown period %q", period)
	}
	wantType(s, c, args[1], 1, TypeLong)
	wantType(s, c, args[2], 2, TypeDatetime)
	return scalar{t: TypeDatetime, fn: func(row int) Value {
		n, d := dynamicScalar(args[1].fn(row)), dynamicScalar(args[2].fn(row))
		if n.Null || d.Null || d.T != TypeDatetime {
			return Null(TypeDatetime)
		}
		t, k := d.Time(), int(n.I)
		switch period {
		case "year":
			t = t.AddDate(k, 0, 0)
		case "quarter":
			t = t.AddDate(0, 3*k, 0)
		case "month":
			t = t.AddDate(0, k, 0)
		case "week":
			t = t.AddDate(0, 0, 7*k)
		case "day":
			t = t.AddDate(0, 0, k)
		case "hour":
			t = t.Add(time.Duration(k) * time.Hour)
		case "minute":
			t = t.Add(time.Duration(k) * time.Minute)
		case "second":
			t = t.Add(time.Duration(k) * time.Second)
		default:
			t = t.Add(time.Duration(k) * time.Millisecond)
		}
		return Datetime(t)
	}}
}

// formatDatetimeTokens are format_datetime's specifiers, longest first.
var formatDatetimeTokens = []string{"yyyy", "yy", "MM", "M", "dd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s", "fffffff", "ffffff", "fffff", "ffff", "fff", "ff", "f", "tt"}

func fnFormatDatetime(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 2)
	wantType(s, c, args[0], 0, TypeDatetime)
	if !args[1].konst {
		s.fail(c.Pos, "format_datetime(): the format is a constant string")
	}
	format := args[1].fn(0).Text()
	return unary1(TypeString, func(v Value) Value {
		if v.Null || v.T != TypeDatetime {
			return String("")
		}
		t := v.Time()
		var b strings.Builder
		for i := 0; i < len(format); {
			matched := false
			for _, tok := range formatDatetimeTokens {
				if strings.HasPrefix(format[i:], tok) {
					b.WriteString(datetimePart(t, tok))
					i += len(tok)
					matched = true
					break
				}
			}
			if !matched {
				b.WriteByte(format[i])
				i++
			}
		}
		return String(b.String())
	}, args[0])
}

func datetimePart(t time.Time, tok string) string {
	switch tok {
	case "yyyy":
		return fmt.Sprintf("%04d", t.Year())
	case "yy":
		return fmt.Sprintf("%02d", t.Year()%100)
	case "MM":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "M":
		return strconv.Itoa(int(t.Month()))
	case "dd":
		return fmt.Sprintf("%02d", t.Day())
	case "d":
		return strconv.Itoa(t.Day())
	case "HH":
		return fmt.Sprintf("%02d", t.Hour())
	case "H":
		return strconv.Itoa(t.Hour())
	case "hh":
		return fmt.Sprintf("%02d", (t.Hour()+11)%12+1)
	case "h":
		return strconv.Itoa((t.Hour()+11)%12 + 1)
	case "mm":
		return fmt.Sprintf("%02d", t.Minute())
	case "m":
		return strconv.Itoa(t.Minute())
	case "ss":
		return fmt.Sprintf("%02d", t.Second())
	case "s":
		return strconv.Itoa(t.Second())
	case "tt":
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	}
	digits := fmt.Sprintf("%07d", t.Nanosecond()/100)
	return digits[:len(tok)]
}

// convert is the to*() conversions: null when the value does not
// convert, as Kusto's.
func convert(v Value, t Type) Value {
	v = dynamicScalar(v)
	if t == TypeString {
		return String(v.Text())
	}
	if v.Null {
		return Null(t)
	}
	switch t {
	case TypeInt, TypeLong:
		var i int64
		switch v.T {
		case TypeInt, TypeLong, TypeBool, TypeTimespan:
			i = v.I
		case TypeDatetime:
			i = v.I + netEpoch // .NET ticks, as Kusto's tolong(datetime)
		case TypeReal:
			if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
				return Null(t)
			}
			i = int64(v.F)
		case TypeString:
			n, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
				if ferr != nil {
					return Null(t)
				}
				n = int64(f)
			}
			i = n
		default:
			return Null(t)
		}
		if t == TypeInt {
			return Int(i)
		}
		return Long(i)
	case TypeReal:
		switch v.T {
		case TypeInt, TypeLong, TypeBool:
			return Real(float64(v.I))
		case TypeReal:
			return v
		case TypeString:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil {
				return Null(t)
			}
			return Real(f)
		}
	case TypeBool:
		switch v.T {
		case TypeBool:
			return v
		case TypeInt, TypeLong:
			return Bool(v.I != 0)
		case TypeReal:
			return Bool(v.F != 0)
		case TypeString:
			switch strings.ToLower(strings.TrimSpace(v.S)) {
			case "true", "1":
				return Bool(true)
			case "false", "0":
				return Bool(false)
			}
		}
	case TypeDatetime:
		switch v.T {
		case TypeDatetime:
			return v
		case TypeString:
			if tm, ok := ParseDatetime(v.S); ok {
				return Datetime(tm)
			}
		}
	case TypeTimespan:
		switch v.T {
		case TypeTimespan:
			return v
		case TypeString:
			if ticks, ok := ParseTimespan(v.S); ok {
				return Value{T: TypeTimespan, I: ticks}
			}
		case TypeInt, TypeLong:
			return Value{T: TypeTimespan, I: v.I}
		}
	}
	return Null(t)
}

func fnConvert(t Type) function {
	return func(s *scope, c *Call, args []scalar) scalar {
		arity(s, c, args, 1, 1)
		return unary1(t, func(v Value) Value { return convert(v, t) }, args[0])
	}
}

func fnParseJSON(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	a := args[0]
	return scalar{t: TypeDynamic, konst: a.konst, fn: func(row int) Value {
		v := a.fn(row)
		switch {
		case v.T == TypeDynamic:
			if str, ok := v.D.(string); ok {
				return Dynamic(ParseJSON(str))
			}
			return v
		case v.T == TypeString:
			if v.S == "" {
				return Null(TypeDynamic)
			}
			return Dynamic(ParseJSON(v.S))
		}
		return Dynamic(toDynamic(v))
	}}
}

func fnStrlen(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	return unary1(TypeLong, func(v Value) Value { return Long(int64(utf8.RuneCountInString(v.Text()))) }, args[0])
}

func fnSubstring(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 3)
	return scalar{t: TypeString, fn: func(row int) Value {
		r := []rune(args[0].fn(row).Text())
		start := convert(args[1].fn(row), TypeLong)
		if start.Null {
			return String("")
		}
		from := max(start.I, 0)
		to := int64(len(r))
		if len(args) == 3 {
			n := convert(args[2].fn(row), TypeLong)
			if n.Null || n.I < 0 {
				return String("")
			}
			to = min(to, from+n.I)
		}
		if from >= to {
			return String("")
		}
		return String(string(r[from:to]))
	}}
}

func fnCase(f func(string) string) function {
	return func(s *scope, c *Call, args []scalar) scalar {
		arity(s, c, args, 1, 1)
		return unary1(TypeString, func(v Value) Value { return String(f(v.Text())) }, args[0])
	}
}

func fnStrcat(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 64)
	return scalar{t: TypeString, fn: func(row int) Value {
		var b strings.Builder
		for _, a := range args {
			b.WriteString(a.fn(row).Text())
		}
		return String(b.String())
	}}
}

func fnSplit(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 3)
	return scalar{t: TypeDynamic, fn: func(row int) Value {
		parts := strings.Split(args[0].fn(row).Text(), args[1].fn(row).Text())
		arr := make([]any, len(parts))
		for i, p := range parts {
			arr[i] = p
		}
		if len(args) == 3 {
			return index(Dynamic(arr), convert(args[2].fn(row), TypeLong)).withArray()
		}
		return Dynamic(arr)
	}}
}

// withArray wraps an element split() picked in an array, as Kusto does.
func (v Value) withArray() Value {
	if v.Null {
		return Dynamic([]any{})
	}
	return Dynamic([]any{v.D})
}

func constRegex(s *scope, c *Call, a scalar, i int) *regexp.Regexp {
	if !a.konst {
		s.fail(c.Args[i].pos(), "%s(): the regular expression is a constant string", c.Name)
	}
	re, err := regexp.Compile(a.fn(0).Text())
	if err != nil {
		s.fail(c.Args[i].pos(), "%s(): %v", c.Name, err)
	}
	return re
}

func fnExtract(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 3, 4)
	re := constRegex(s, c, args[0], 0)
	if !args[1].konst {
		s.fail(c.Args[1].pos(), "extract(): the capture group is a constant")
	}
	group := int(convert(args[1].fn(0), TypeLong).I)
	if group < 0 || group > re.NumSubexp() {
		s.fail(c.Args[1].pos(), "extract(): capture group %d of a pattern with %d", group, re.NumSubexp())
	}
	t := TypeString
	if len(args) == 4 {
		if !args[3].konst {
			s.fail(c.Args[3].pos(), "extract(): the type is a typeof(...) or a null literal of the type")
		}
		t = args[3].t
	}
	return scalar{t: t, fn: func(row int) Value {
		m := re.FindStringSubmatch(args[2].fn(row).Text())
		if m == nil {
			return convert(Null(TypeString), t)
		}
		return convert(String(m[group]), t)
	}}
}

func fnReplaceString(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 3, 3)
	return scalar{t: TypeString, fn: func(row int) Value {
		return String(strings.ReplaceAll(args[0].fn(row).Text(), args[1].fn(row).Text(), args[2].fn(row).Text()))
	}}
}

func fnTrim(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 2)
	re := constRegex(s, c, args[0], 0)
	start, err1 := regexp.Compile(`^(?:` + re.String() + `)+`)
	end, err2 := regexp.Compile(`(?:` + re.String() + `)+$`)
	if err1 != nil || err2 != nil {
		s.fail(c.Args[0].pos(), "%s(): the pattern cannot be repeated at the ends", c.Name)
	}
	return scalar{t: TypeString, fn: func(row int) Value {
		text := args[1].fn(row).Text()
		if c.Name != "trim_end" {
			text = start.ReplaceAllString(text, "")
		}
		if c.Name != "trim_start" {
			text = end.ReplaceAllString(text, "")
		}
		return String(text)
	}}
}

func fnIndexOf(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 2)
	return scalar{t: TypeLong, fn: func(row int) Value {
		h, n := args[0].fn(row).Text(), args[1].fn(row).Text()
		i := strings.Index(h, n)
		if i < 0 {
			return Long(-1)
		}
		return Long(int64(utf8.RuneCountInString(h[:i])))
	}}
}

// commonType is the type of a value that is one of several branches.
func commonType(s *scope, c *Call, branches []scalar) Type {
	t := TypeNull
	for _, b := range branches {
		switch {
		case b.t == TypeNull || b.t == t:
		case t == TypeNull:
			t = b.t
		case t.numeric() && b.t.numeric():
			if b.t == TypeReal || t == TypeReal {
				t = TypeReal
			} else {
				t = TypeLong
			}
		default:
			s.fail(c.Pos, "%s(): the branches are %s and %s; convert one", c.Name, t, b.t)
		}
	}
	return t
}

func castTo(v Value, t Type) Value {
	if v.Null {
		return Null(t)
	}
	if v.T == t || t == TypeNull {
		return v
	}
	return convert(v, t)
}

func fnIff(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 3, 3)
	wantType(s, c, args[0], 0, TypeBool)
	t := commonType(s, c, args[1:])
	return scalar{t: t, fn: func(row int) Value {
		if dynamicScalar(args[0].fn(row)).truth() {
			return castTo(args[1].fn(row), t)
		}
		return castTo(args[2].fn(row), t)
	}}
}

func fnCaseWhen(s *scope, c *Call, args []scalar) scalar {
	if len(args) < 3 || len(args)%2 == 0 {
		s.fail(c.Pos, "case() takes pairs of a condition and a value, then the else value")
	}
	var values []scalar
	for i := 0; i+1 < len(args); i += 2 {
		wantType(s, c, args[i], i, TypeBool)
		values = append(values, args[i+1])
	}
	values = append(values, args[len(args)-1])
	t := commonType(s, c, values)
	return scalar{t: t, fn: func(row int) Value {
		for i := 0; i+1 < len(args); i += 2 {
			if dynamicScalar(args[i].fn(row)).truth() {
				return castTo(args[i+1].fn(row), t)
			}
		}
		return castTo(args[len(args)-1].fn(row), t)
	}}
}

func isEmpty(v Value) bool {
	v = dynamicScalar(v)
	return v.Null || v.T == TypeString && v.S == ""
}

func fnCoalesce(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 2, 64)
	t := commonType(s, c, args)
	return scalar{t: t, fn: func(row int) Value {
		for _, a := range args {
			if v := a.fn(row); !isEmpty(v) {
				return castTo(v, t)
			}
		}
		return Null(t)
	}}
}

func fnEmpty(empty bool) function {
	return func(s *scope, c *Call, args []scalar) scalar {
		arity(s, c, args, 1, 1)
		return unary1(TypeBool, func(v Value) Value { return Bool(isEmpty(v) == empty) }, args[0])
	}
}

func fnNull(null bool) function {
	return func(s *scope, c *Call, args []scalar) scalar {
		arity(s, c, args, 1, 1)
		return scalar{t: TypeBool, fn: func(row int) Value { return Bool(args[0].fn(row).Null == null) }}
	}
}

func fnNot(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeBool)
	return unary1(TypeBool, func(v Value) Value {
		if v.Null {
			return Null(TypeBool)
		}
		return Bool(v.I == 0)
	}, args[0])
}

func fnBagKeys(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeDynamic)
	return scalar{t: TypeDynamic, fn: func(row int) Value {
		bag, ok := args[0].fn(row).D.(map[string]any)
		if !ok {
			return Null(TypeDynamic)
		}
		keys := sortedKeys(bag)
		arr := make([]any, len(keys))
		for i, k := range keys {
			arr[i] = k
		}
		return Dynamic(arr)
	}}
}

func fnArrayLength(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeDynamic)
	return scalar{t: TypeLong, fn: func(row int) Value {
		arr, ok := args[0].fn(row).D.([]any)
		if !ok {
			return Null(TypeLong)
		}
		return Long(int64(len(arr)))
	}}
}

func fnRound(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 2)
	wantType(s, c, args[0], 0, TypeReal)
	t := args[0].t
	if t == TypeDynamic || t == TypeNull {
		t = TypeReal
	}
	return scalar{t: t, fn: func(row int) Value {
		v := dynamicScalar(args[0].fn(row))
		if v.Null {
			return Null(t)
		}
		if v.T != TypeReal {
			return castTo(v, t)
		}
		p := 0.0
		if len(args) == 2 {
			p = convert(args[1].fn(row), TypeReal).F
		}
		scale := math.Pow(10, p)
		return castTo(Real(math.Round(v.F*scale)/scale), t)
	}}
}

func fnAbs(s *scope, c *Call, args []scalar) scalar {
	arity(s, c, args, 1, 1)
	wantType(s, c, args[0], 0, TypeReal, TypeTimespan)
	return unary1(args[0].t, func(v Value) Value {
		if v.Null {
			return v
		}
		if v.T == TypeReal {
			v.F = math.Abs(v.F)
		} else if v.I < 0 {
			v.I = -v.I
		}
		return v
	}, args[0])
}
