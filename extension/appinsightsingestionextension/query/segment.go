// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
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
				s.cols = append(s.cols, &itemIDColumn{s: s})
				s.adders = append(s.adders, func(*envelope, int) {})
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

// table is the segment's first n rows as a kql.Table: rows appended
// while a query runs are not in its snapshot.
type segmentTable struct {
	s *segment
	n int
}

func (t segmentTable) Columns() []string {
	names := make([]string, len(t.s.schema.fields))
	for i, f := range t.s.schema.fields {
		names[i] = f.name
	}
	return names
}

func (t segmentTable) Column(i int) kql.Column { return t.s.cols[i] }
func (t segmentTable) Len() int                { return t.n }
