// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Type is a Kusto scalar type.
type Type uint8

const (
	// TypeNull is the type of the literal null before it meets a column:
	// an untyped null.
	TypeNull Type = iota
	TypeBool
	TypeInt
	TypeLong
	TypeReal
	TypeString
	TypeDatetime
	TypeTimespan
	TypeDynamic
)

var typeNames = [...]string{"null", "bool", "int", "long", "real", "string", "datetime", "timespan", "dynamic"}

// String is the type's name as Kusto writes it in a result's columns.
func (t Type) String() string { return typeNames[t] }

func typeByName(name string) (Type, bool) {
	switch name {
	case "bool", "boolean":
		return TypeBool, true
	case "int":
		return TypeInt, true
	case "long":
		return TypeLong, true
	case "real", "double":
		return TypeReal, true
	case "string":
		return TypeString, true
	case "datetime", "date":
		return TypeDatetime, true
	case "timespan", "time":
		return TypeTimespan, true
	case "dynamic":
		return TypeDynamic, true
	}
	return TypeNull, false
}

func (t Type) numeric() bool { return t == TypeInt || t == TypeLong || t == TypeReal }

// Value is one typed value. Bool, int, long, datetime (100 ns ticks since
// the Unix epoch) and timespan (100 ns ticks) are held in I, real in F,
// string in S, dynamic in D (nil, bool, int64, float64, string, []any or
// map[string]any, as JSON decodes). A null has its column's type and Null
// set; a null string does not exist in Kusto: it is the empty string.
type Value struct {
	T    Type
	Null bool
	I    int64
	F    float64
	S    string
	D    any
}

// netEpoch is the Unix epoch in Kusto's (.NET's) ticks since 0001-01-01.
const netEpoch = 621355968000000000

// Ticks per unit: Kusto's datetime and timespan resolution is 100 ns.
const (
	tick        = 100 * time.Nanosecond
	ticksPerSec = int64(time.Second / tick)
	ticksPerDay = 86400 * ticksPerSec
)

// Constructors.
func Null(t Type) Value {
	if t == TypeString {
		return Value{T: TypeString} // Kusto has no null string: it is ""
	}
	return Value{T: t, Null: true}
}
func Bool(b bool) Value {
	v := Value{T: TypeBool}
	if b {
		v.I = 1
	}
	return v
}
func Long(i int64) Value             { return Value{T: TypeLong, I: i} }
func Int(i int64) Value              { return Value{T: TypeInt, I: int64(int32(i))} }
func Real(f float64) Value           { return Value{T: TypeReal, F: f} }
func String(s string) Value          { return Value{T: TypeString, S: s} }
func Datetime(t time.Time) Value     { return Value{T: TypeDatetime, I: t.UnixNano() / int64(tick)} }
func Timespan(d time.Duration) Value { return Value{T: TypeTimespan, I: int64(d / tick)} }
func Dynamic(d any) Value            { return Value{T: TypeDynamic, D: d, Null: d == nil} }

// Time is a datetime value as a time.Time, in UTC.
func (v Value) Time() time.Time { return time.Unix(0, v.I*int64(tick)).UTC() }

// Bool reports a bool value's truth; null is false (where drops it).
func (v Value) truth() bool { return !v.Null && v.T == TypeBool && v.I != 0 }

// asReal is a numeric value as float64.
func (v Value) asReal() float64 {
	if v.T == TypeReal {
		return v.F
	}
	return float64(v.I)
}

// ParseDatetime reads the datetime forms Kusto accepts in datetime(...)
// and todatetime(): ISO 8601 with or without a zone (UTC assumed), a date
// alone, and "yyyy-MM-dd HH:mm[:ss[.f]]".
func ParseDatetime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
		"2006-01-02 15:04:05.999999999Z07:00",
		time.RFC1123,
		time.RFC1123Z,
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// timespanUnits are the suffixes of timespan literals, in ticks.
var timespanUnits = map[string]int64{
	"d": ticksPerDay, "day": ticksPerDay, "days": ticksPerDay,
	"h": 3600 * ticksPerSec, "hr": 3600 * ticksPerSec, "hrs": 3600 * ticksPerSec, "hour": 3600 * ticksPerSec, "hours": 3600 * ticksPerSec,
	"m": 60 * ticksPerSec, "min": 60 * ticksPerSec, "minute": 60 * ticksPerSec, "minutes": 60 * ticksPerSec,
	"s": ticksPerSec, "sec": ticksPerSec, "second": ticksPerSec, "seconds": ticksPerSec,
	"ms": ticksPerSec / 1000, "milli": ticksPerSec / 1000, "millis": ticksPerSec / 1000, "millisecond": ticksPerSec / 1000, "milliseconds": ticksPerSec / 1000,
	"microsecond": 10, "microseconds": 10, "tick": 1, "ticks": 1,
}

// ParseTimespan reads a timespan literal's text: "7d", "1.5h", "30m",
// "100ms", a plain number of days, or Kusto's [-][d.]hh:mm[:ss[.fffffff]].
func ParseTimespan(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	var ticks int64
	if strings.Contains(s, ":") {
		days := int64(0)
		clock := s
		if i := strings.IndexByte(s, '.'); i >= 0 && i < strings.IndexByte(s, ':') {
			d, err := strconv.ParseInt(s[:i], 10, 64)
			if err != nil {
				return 0, false
			}
			days, clock = d, s[i+1:]
		}
		parts := strings.Split(clock, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return 0, false
		}
		h, err1 := strconv.ParseInt(parts[0], 10, 64)
		m, err2 := strconv.ParseInt(parts[1], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		sec := 0.0
		if len(parts) == 3 {
			f, err := strconv.ParseFloat(parts[2], 64)
			if err != nil {
				return 0, false
			}
			sec = f
		}
		ticks = days*ticksPerDay + (h*3600+m*60)*ticksPerSec + int64(math.Round(sec*float64(ticksPerSec)))
	} else {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, false
		}
		unit := strings.ToLower(s[i:])
		if unit == "" {
			unit = "d"
		}
		per, ok := timespanUnits[unit]
		if !ok {
			return 0, false
		}
		ticks = int64(math.Round(n * float64(per)))
	}
	if neg {
		ticks = -ticks
	}
	return ticks, true
}

// FormatTimespan writes ticks as Kusto does: [-][d.]hh:mm:ss[.fffffff].
func FormatTimespan(ticks int64) string {
	var b strings.Builder
	if ticks < 0 {
		b.WriteByte('-')
		ticks = -ticks
	}
	days := ticks / ticksPerDay
	rest := ticks % ticksPerDay
	if days > 0 {
		fmt.Fprintf(&b, "%d.", days)
	}
	sec := rest / ticksPerSec
	frac := rest % ticksPerSec
	fmt.Fprintf(&b, "%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	if frac != 0 {
		fmt.Fprintf(&b, ".%07d", frac)
	}
	return b.String()
}

// FormatDatetime writes a datetime as the query API does: ISO 8601 in UTC
// with Kusto's seven fractional digits when there are any.
func FormatDatetime(ticks int64) string {
	t := time.Unix(0, ticks*int64(tick)).UTC()
	if ticks%ticksPerSec == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.0000000Z")
}

// JSON is the value as the query API writes it in a row.
func (v Value) JSON() any {
	if v.Null {
		return nil
	}
	switch v.T {
	case TypeBool:
		return v.I != 0
	case TypeInt, TypeLong:
		return v.I
	case TypeReal:
		if !math.IsNaN(v.F) && !math.IsInf(v.F, 0) {
			return v.F
		}
	case TypeDynamic:
		return v.D
	}
	// Strings, datetimes, timespans and non-finite reals: their text.
	return v.Text()
}

// Text is the value as tostring() gives it, and as a table prints it.
func (v Value) Text() string {
	if v.Null {
		return ""
	}
	switch v.T {
	case TypeBool:
		if v.I != 0 {
			return "true"
		}
		return "false"
	case TypeInt, TypeLong:
		return strconv.FormatInt(v.I, 10)
	case TypeReal:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case TypeString:
		return v.S
	case TypeDatetime:
		return FormatDatetime(v.I)
	case TypeTimespan:
		return FormatTimespan(v.I)
	case TypeDynamic:
		if s, ok := v.D.(string); ok {
			return s
		}
		return marshalJSON(v.D)
	}
	return ""
}

// dynamicScalar turns a scalar held in a dynamic into its own type, for
// comparing and computing with it; bags and arrays stay dynamic.
func dynamicScalar(v Value) Value {
	if v.T != TypeDynamic {
		return v
	}
	switch d := v.D.(type) {
	case nil:
		return Null(TypeDynamic)
	case bool:
		return Bool(d)
	case int64:
		return Long(d)
	case float64:
		if d == math.Trunc(d) && math.Abs(d) < 1<<53 {
			return Long(int64(d))
		}
		return Real(d)
	case json.Number:
		if i, err := d.Int64(); err == nil {
			return Long(i)
		}
		f, _ := d.Float64()
		return Real(f)
	case string:
		return String(d)
	}
	return v
}

// toDynamic is a value as a dynamic holds it.
func toDynamic(v Value) any {
	if v.Null {
		return nil
	}
	switch v.T {
	case TypeDynamic:
		return v.D
	case TypeBool:
		return v.I != 0
	case TypeInt, TypeLong:
		return v.I
	case TypeReal:
		return v.F
	default:
		return v.Text()
	}
}

// normalizeJSON turns what encoding/json decodes (with UseNumber) into
// the dynamic representation: json.Number becomes int64 or float64.
func normalizeJSON(d any) any {
	switch x := d.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = normalizeJSON(x[k])
		}
		return x
	}
	return d
}

// ParseJSON is parse_json(): the text's JSON value, or the text itself as
// a dynamic string when it is not JSON.
func ParseJSON(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var d any
	if err := dec.Decode(&d); err != nil || dec.More() {
		return s
	}
	return normalizeJSON(d)
}

// compare orders two values of comparable types: -1, 0 or 1, and false
// when they cannot be compared (either null, or types that do not meet).
func compare(a, b Value) (int, bool) {
	a, b = dynamicScalar(a), dynamicScalar(b)
	if a.Null || b.Null {
		return 0, false
	}
	switch {
	case a.T.numeric() && b.T.numeric():
		if a.T != TypeReal && b.T != TypeReal {
			return cmpInt(a.I, b.I), true
		}
		x, y := a.asReal(), b.asReal()
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		case x == y:
			return 0, true
		}
		return 0, false
	case a.T == TypeString && b.T == TypeString:
		return strings.Compare(a.S, b.S), true
	case a.T == b.T && (a.T == TypeDatetime || a.T == TypeTimespan || a.T == TypeBool):
		return cmpInt(a.I, b.I), true
	case a.T == TypeDynamic && b.T == TypeDynamic:
		return strings.Compare(marshalJSON(a.D), marshalJSON(b.D)), true
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// groupKey is a value's identity for grouping, distinct and joins.
func groupKey(v Value) string {
	v = dynamicScalar(v)
	if v.Null {
		return "\x00"
	}
	switch v.T {
	case TypeString:
		return "s" + v.S
	case TypeReal:
		return "r" + strconv.FormatFloat(v.F, 'g', -1, 64)
	case TypeDynamic:
		return "d" + marshalJSON(v.D)
	}
	return string(rune('a'+v.T)) + strconv.FormatInt(v.I, 10)
}

// sortedKeys are a bag's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nan() float64         { return math.NaN() }
func inf(sign int) float64 { return math.Inf(sign) }

// marshalJSON is a dynamic value's text: JSON as Kusto writes it, without
// the HTML escapes of encoding/json (a Python traceback's <module> stays).
func marshalJSON(d any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}
