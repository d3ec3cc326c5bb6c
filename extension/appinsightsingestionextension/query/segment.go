// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"sort"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// segment holds one table's rows, column by column, as they are read from
// the envelopes file.
type segment struct {
	schema  *tableSchema
	n       int
	cols    []kql.Column // one per schema field, in order
	adders  []func(e *envelope, point int)
	offsets []int64 // each row's line, for itemId
	points  []int32
}

func newSegment(schema *tableSchema) *segment {
	s := &segment{schema: schema}
	for _, f := range schema.fields {
		f := f
		switch f.kind {
		case kindString:
			if f.name == "itemId" {
				col := &itemIDColumn{table: schema.name}
				s.cols = append(s.cols, col)
				// After add has appended the row's offset and point.
				s.adders = append(s.adders, func(*envelope, int) { col.offsets, col.points = s.offsets, s.points })
				continue
			}
			col := newStringColumn(false)
			s.cols = append(s.cols, col)
			s.adders = append(s.adders, func(e *envelope, p int) { col.add(f.str(e, p)) })
		case kindJSON:
			col := newStringColumn(false)
			s.cols = append(s.cols, &jsonColumn{text: col})
			s.adders = append(s.adders, func(e *envelope, p int) { col.add(f.str(e, p)) })
		case kindInt, kindBool:
			col := &numberColumn{typ: f.typ}
			s.cols = append(s.cols, col)
			s.adders = append(s.adders, func(e *envelope, p int) { col.addInt(f.int(e, p)) })
		case kindReal:
			col := &numberColumn{typ: kql.TypeReal}
			s.cols = append(s.cols, col)
			s.adders = append(s.adders, func(e *envelope, p int) { col.addReal(f.num(e, p)) })
		case kindBag:
			col := newBagColumn()
			s.cols = append(s.cols, col)
			s.adders = append(s.adders, func(e *envelope, _ int) { col.addStrings(e.Data.BaseData.Properties) })
		case kindMeasures:
			col := newBagColumn()
			s.cols = append(s.cols, col)
			s.adders = append(s.adders, func(e *envelope, _ int) { col.addNumbers(e.Data.BaseData.Measurements) })
		}
	}
	return s
}

// add appends the envelope's row (a metric's one row per data point).
func (s *segment) add(e *envelope, offset int64) {
	points := 1
	if s.schema.envelope == "Metric" {
		points = len(e.Data.BaseData.Metrics)
	}
	for p := 0; p < points; p++ {
		s.offsets = append(s.offsets, offset)
		s.points = append(s.points, int32(p))
		for _, add := range s.adders {
			add(e, p)
		}
		s.n++
	}
}

// extentColumns are one part of a table: a sealed extent's, or the rows
// in memory.
type extentColumns struct {
	rows int
	cols []kql.Column
}

// storeTable is a table over its parts, sealed extents then the rows in
// memory, as of one query: rows appended while it runs are not in it.
type storeTable struct {
	schema *tableSchema
	parts  []extentColumns
	n      int
}

func newStoreTable(schema *tableSchema, parts []extentColumns) *storeTable {
	t := &storeTable{schema: schema, parts: parts}
	for _, p := range parts {
		t.n += p.rows
	}
	return t
}

func (t *storeTable) Columns() []string {
	names := make([]string, len(t.schema.fields))
	for i, f := range t.schema.fields {
		names[i] = f.name
	}
	return names
}

func (t *storeTable) Len() int { return t.n }

func (t *storeTable) Column(i int) kql.Column {
	if len(t.parts) == 1 {
		return t.parts[0].cols[i]
	}
	c := &partsColumn{typ: t.schema.fields[i].typ}
	start := 0
	for _, p := range t.parts {
		c.cols = append(c.cols, p.cols[i])
		c.starts = append(c.starts, start)
		start += p.rows
	}
	c.starts = append(c.starts, start)
	if t.schema.fields[i].kind == kindBag || t.schema.fields[i].kind == kindMeasures {
		return &partsBag{c}
	}
	return c
}

// partsColumn is a column over the parts of a table, one after another.
// It remembers the part of the last row read: a scan reads in order.
type partsColumn struct {
	typ    kql.Type
	cols   []kql.Column
	starts []int // len(cols)+1
	last   int
}

func (c *partsColumn) Type() kql.Type { return c.typ }

func (c *partsColumn) Value(row int) kql.Value {
	p := c.last
	if row < c.starts[p] || row >= c.starts[p+1] {
		p = sort.Search(len(c.cols), func(i int) bool { return c.starts[i+1] > row })
		c.last = p
	}
	return c.cols[p].Value(row - c.starts[p])
}

// partsBag keeps property access direct over the parts.
type partsBag struct{ *partsColumn }

func (c *partsBag) Property(name string) kql.Column {
	out := &partsColumn{typ: kql.TypeDynamic, starts: c.starts}
	for _, col := range c.cols {
		out.cols = append(out.cols, col.(kql.PropertyColumn).Property(name))
	}
	return out
}
