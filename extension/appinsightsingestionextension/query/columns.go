// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"encoding/json"
	"sort"
	"sync"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// The stored columns. Every column implements kql.Column; reading a row
// allocates nothing for strings, numbers and properties.

// maxDictionary bounds a string column's dictionary: a column with more
// distinct values (messages, ids) stops looking its values up and keeps
// each row's text as it comes.
const maxDictionary = 1 << 16

// stringColumn is dictionary-encoded text: ids index dict, 0 is absent.
type stringColumn struct {
	ids   []uint32
	dict  []string
	index map[string]uint32 // nil once the dictionary is full
	// dynamic: a property of a bag, whose absence is a dynamic null
	// and whose value is a dynamic string.
	dynamic bool
	once    sync.Once
	values  []kql.Value // dict as values, made on the first read
}

func newStringColumn(dynamic bool) *stringColumn {
	return &stringColumn{dict: []string{""}, index: map[string]uint32{}, dynamic: dynamic}
}

func (c *stringColumn) add(s string) {
	if s == "" && !c.dynamic {
		c.ids = append(c.ids, 0)
		return
	}
	if c.index != nil {
		if id, ok := c.index[s]; ok {
			c.ids = append(c.ids, id)
			return
		}
		if len(c.dict) < maxDictionary {
			id := uint32(len(c.dict))
			c.index[s] = id
			c.dict = append(c.dict, s)
			c.ids = append(c.ids, id)
			return
		}
		c.index = nil
	}
	c.ids = append(c.ids, uint32(len(c.dict)))
	c.dict = append(c.dict, s)
}

func (c *stringColumn) addAbsent() { c.ids = append(c.ids, 0) }

func (c *stringColumn) padTo(n int) {
	for len(c.ids) < n {
		c.ids = append(c.ids, 0)
	}
}

func (c *stringColumn) Type() kql.Type {
	if c.dynamic {
		return kql.TypeDynamic
	}
	return kql.TypeString
}

func (c *stringColumn) Value(row int) kql.Value {
	id := c.ids[row]
	if c.index != nil || len(c.dict) <= maxDictionary {
		c.once.Do(c.makeValues)
		if int(id) < len(c.values) {
			return c.values[id]
		}
	}
	if c.dynamic {
		if id == 0 {
			return kql.Null(kql.TypeDynamic)
		}
		return kql.Dynamic(c.dict[id])
	}
	return kql.String(c.dict[id])
}

func (c *stringColumn) makeValues() {
	// Made once, for the dictionary as it is now; rows added later with
	// new ids fall back to building their value.
	n := min(len(c.dict), maxDictionary+1)
	c.values = make([]kql.Value, n)
	for i := 0; i < n; i++ {
		switch {
		case !c.dynamic:
			c.values[i] = kql.String(c.dict[i])
		case i == 0:
			c.values[i] = kql.Null(kql.TypeDynamic)
		default:
			c.values[i] = kql.Dynamic(c.dict[i])
		}
	}
}

// numberColumn holds int64 (long, int, bool, datetime) or float64 (real)
// values with a null mask.
type numberColumn struct {
	typ    kql.Type
	ints   []int64
	floats []float64
	nulls  []bool
	// dynamic: a customMeasurements value, read as a dynamic number.
	dynamic bool
}

func (c *numberColumn) addInt(v int64, ok bool) {
	c.ints = append(c.ints, v)
	c.nulls = append(c.nulls, !ok)
}

func (c *numberColumn) addReal(v float64, ok bool) {
	c.floats = append(c.floats, v)
	c.nulls = append(c.nulls, !ok)
}

func (c *numberColumn) padTo(n int) {
	for len(c.nulls) < n {
		c.addReal(0, false)
	}
}

func (c *numberColumn) Type() kql.Type {
	if c.dynamic {
		return kql.TypeDynamic
	}
	return c.typ
}

func (c *numberColumn) Value(row int) kql.Value {
	if c.nulls[row] {
		return kql.Null(c.Type())
	}
	switch {
	case c.dynamic:
		return kql.Dynamic(c.floats[row])
	case c.typ == kql.TypeReal:
		return kql.Real(c.floats[row])
	}
	return kql.Value{T: c.typ, I: c.ints[row]}
}

// maxBagKeys bounds the properties of a bag column that get a column of
// their own in one segment: a sender with a new property name on every
// record would otherwise cost a column per name for every row. The rest
// of a row's properties are kept together, as JSON, in its overflow.
const maxBagKeys = 1024

// bagColumn is customDimensions (or customMeasurements): one column per
// property, so that customDimensions.Level reads one column.
type bagColumn struct {
	strings  map[string]*stringColumn // customDimensions
	numbers  map[string]*numberColumn // customMeasurements
	keys     []string                 // sorted
	overflow *stringColumn            // the rest of each row's properties, JSON; nil while there is none
	n        int
}

func newBagColumn() *bagColumn {
	return &bagColumn{strings: map[string]*stringColumn{}, numbers: map[string]*numberColumn{}}
}

func (c *bagColumn) addStrings(p map[string]string) {
	addRow(c, p, c.strings, func() *stringColumn { return newStringColumn(true) }, (*stringColumn).add, (*stringColumn).padTo)
}

func (c *bagColumn) addNumbers(m map[string]float64) {
	addRow(c, m, c.numbers, func() *numberColumn { return &numberColumn{typ: kql.TypeReal, dynamic: true} },
		func(col *numberColumn, v float64) { col.addReal(v, true) }, (*numberColumn).padTo)
}

// addRow adds a row's properties to their columns (new ones padded to the
// rows before), the ones past maxBagKeys to the overflow, and pads every
// column the row lacks.
func addRow[V any, C any](c *bagColumn, props map[string]V, cols map[string]C, newCol func() C, add func(C, V), pad func(C, int)) {
	var extra map[string]any
	for k, v := range props {
		col, ok := cols[k]
		if !ok {
			if len(c.keys) >= maxBagKeys {
				if extra == nil {
					extra = map[string]any{}
				}
				extra[k] = v
				continue
			}
			col = newCol()
			pad(col, c.n)
			cols[k] = col
			c.keys = insertSorted(c.keys, k)
		}
		add(col, v)
	}
	c.endRow(extra)
	for _, col := range cols {
		pad(col, c.n)
	}
}

// endRow closes a row, keeping the properties that have no column.
func (c *bagColumn) endRow(extra map[string]any) {
	if extra != nil && c.overflow == nil {
		c.overflow = newStringColumn(false)
		c.overflow.padTo(c.n)
	}
	c.n++
	if c.overflow == nil {
		return
	}
	if extra == nil {
		c.overflow.addAbsent()
		return
	}
	b, _ := json.Marshal(extra)
	c.overflow.add(string(b))
}

func insertSorted(keys []string, k string) []string {
	i := sort.SearchStrings(keys, k)
	keys = append(keys, "")
	copy(keys[i+1:], keys[i:])
	keys[i] = k
	return keys
}

func (c *bagColumn) Type() kql.Type { return kql.TypeDynamic }

func (c *bagColumn) Value(row int) kql.Value {
	bag := map[string]any{}
	for _, k := range c.keys {
		if col, ok := c.strings[k]; ok {
			if id := col.ids[row]; id != 0 {
				bag[k] = col.dict[id]
			}
			continue
		}
		if col := c.numbers[k]; !col.nulls[row] {
			bag[k] = col.floats[row]
		}
	}
	if c.overflow != nil {
		mergeOverflow(bag, c.overflow, row)
	}
	return kql.Dynamic(bag)
}

// Property is one property's column: customDimensions.Level.
func (c *bagColumn) Property(name string) kql.Column {
	if col, ok := c.strings[name]; ok {
		return col
	}
	if col, ok := c.numbers[name]; ok {
		return col
	}
	if c.overflow != nil {
		return overflowProperty{overflow: c.overflow, name: name}
	}
	return absent{}
}

// mergeOverflow adds a row's overflow properties to its bag.
func mergeOverflow(bag map[string]any, overflow kql.Column, row int) {
	if v := overflow.Value(row); v.S != "" {
		if extra, ok := kql.ParseJSON(v.S).(map[string]any); ok {
			for k, x := range extra {
				bag[k] = x
			}
		}
	}
}

// overflowProperty reads one property out of each row's overflow.
type overflowProperty struct {
	overflow kql.Column
	name     string
}

func (c overflowProperty) Type() kql.Type { return kql.TypeDynamic }
func (c overflowProperty) Value(row int) kql.Value {
	bag := map[string]any{}
	mergeOverflow(bag, c.overflow, row)
	return kql.Dynamic(bag[c.name])
}

// absent is a property no row has.
type absent struct{}

func (absent) Type() kql.Type      { return kql.TypeDynamic }
func (absent) Value(int) kql.Value { return kql.Null(kql.TypeDynamic) }

// jsonColumn is a dynamic value kept as its JSON text.
type jsonColumn struct{ text *stringColumn }

func (c *jsonColumn) Type() kql.Type { return kql.TypeDynamic }
func (c *jsonColumn) Value(row int) kql.Value {
	id := c.text.ids[row]
	if id == 0 {
		return kql.Null(kql.TypeDynamic)
	}
	return kql.Dynamic(kql.ParseJSON(c.text.dict[id]))
}

// itemIDColumn computes each row's itemId from where its line is: the
// rows in memory share their segment's slices, a sealed extent's come
// from its _rows file.
type itemIDColumn struct {
	table   string
	offsets []int64
	points  []int32
}

func (c *itemIDColumn) Type() kql.Type { return kql.TypeString }
func (c *itemIDColumn) Value(row int) kql.Value {
	return kql.String(itemID(c.table, c.offsets[row], int(c.points[row])))
}
