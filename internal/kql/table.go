// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

// Column is a column of a table, read by row.
type Column interface {
	Type() Type
	Value(row int) Value
}

// PropertyColumn is a dynamic column that can read one property of its
// bags without building them: customDimensions.Level reads the Level
// column of a store that keeps each property apart.
type PropertyColumn interface {
	Column
	Property(name string) Column
}

// ColumnSchema names and types a column.
type ColumnSchema struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a named set of columns of equal length.
type Table interface {
	Columns() []string
	Column(i int) Column
	Len() int
}

// Catalog gives the tables a query may name.
type Catalog interface {
	// Table is the table of that name, or nil. Names are case-sensitive,
	// as in Kusto.
	Table(name string) (Table, error)
	// Tables are every table's name, for union * and search.
	Tables() []string
}

// Values is a column held in memory.
type Values struct {
	T    Type
	Rows []Value
}

func (c *Values) Type() Type          { return c.T }
func (c *Values) Value(row int) Value { return c.Rows[row] }

// MemTable is a table held in memory.
type MemTable struct {
	Names []string
	Cols  []Column
	N     int
}

func (t *MemTable) Columns() []string   { return t.Names }
func (t *MemTable) Column(i int) Column { return t.Cols[i] }
func (t *MemTable) Len() int            { return t.N }

// view is a column seen through a selection of its rows.
type view struct {
	base Column
	rows []int
}

func (c *view) Type() Type          { return c.base.Type() }
func (c *view) Value(row int) Value { return c.base.Value(c.rows[row]) }

// propertyView keeps a view's property access direct.
type propertyView struct {
	view
}

func (c *propertyView) Property(name string) Column {
	return &view{base: c.base.(PropertyColumn).Property(name), rows: c.rows}
}

// selectRows is c seen through rows (indexes into c).
func selectRows(c Column, rows []int) Column {
	switch b := c.(type) {
	case *view:
		return selectRows(b.base, compose(b.rows, rows))
	case *propertyView:
		return selectRows(b.base, compose(b.rows, rows))
	case PropertyColumn:
		return &propertyView{view{base: b, rows: rows}}
	}
	return &view{base: c, rows: rows}
}

func compose(outer, inner []int) []int {
	out := make([]int, len(inner))
	for i, r := range inner {
		out[i] = outer[r]
	}
	return out
}

// constant is one value on every row.
type constant struct{ v Value }

func (c constant) Type() Type      { return c.v.T }
func (c constant) Value(int) Value { return c.v }

// Subset is the rows of t at the given indexes, in that order.
func Subset(t Table, rows []int) Table {
	out := &MemTable{Names: t.Columns(), N: len(rows)}
	for i := range out.Names {
		out.Cols = append(out.Cols, selectRows(t.Column(i), rows))
	}
	return out
}
