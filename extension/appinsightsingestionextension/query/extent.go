// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// An extent is a sealed run of rows of every table, one file per column
// (and per property of customDimensions and customMeasurements), written
// once and never changed. A query reads only the files of the columns it
// names, the first time it needs them.

const columnMagic = "rcq1"

// Column file kinds.
const (
	fileStrings byte = 1
	fileNumbers byte = 2
	fileRows    byte = 3
)

func writeColumnFile(path string, write func(w *bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func putUvarint(w *bufio.Writer, v uint64) {
	var b [binary.MaxVarintLen64]byte
	w.Write(b[:binary.PutUvarint(b[:], v)])
}

func writeStrings(path string, c *stringColumn) error {
	return writeColumnFile(path, func(w *bufio.Writer) error {
		w.WriteString(columnMagic)
		w.WriteByte(fileStrings)
		putUvarint(w, uint64(len(c.ids)))
		putUvarint(w, uint64(len(c.dict)))
		for _, s := range c.dict {
			putUvarint(w, uint64(len(s)))
			w.WriteString(s)
		}
		var b [4]byte
		for _, id := range c.ids {
			binary.LittleEndian.PutUint32(b[:], id)
			w.Write(b[:])
		}
		return nil
	})
}

func writeNumbers(path string, c *numberColumn) error {
	return writeColumnFile(path, func(w *bufio.Writer) error {
		w.WriteString(columnMagic)
		w.WriteByte(fileNumbers)
		putUvarint(w, uint64(len(c.nulls)))
		var b [8]byte
		for i := range c.nulls {
			var bits uint64
			if c.typ == kql.TypeReal || c.dynamic {
				bits = math.Float64bits(c.floats[i])
			} else {
				bits = uint64(c.ints[i])
			}
			binary.LittleEndian.PutUint64(b[:], bits)
			w.Write(b[:])
		}
		for _, null := range c.nulls {
			if null {
				w.WriteByte(1)
			} else {
				w.WriteByte(0)
			}
		}
		return nil
	})
}

func writeRows(path string, s *segment) error {
	return writeColumnFile(path, func(w *bufio.Writer) error {
		w.WriteString(columnMagic)
		w.WriteByte(fileRows)
		putUvarint(w, uint64(s.n))
		var b [8]byte
		for i := 0; i < s.n; i++ {
			binary.LittleEndian.PutUint64(b[:], uint64(s.offsets[i]))
			w.Write(b[:4+4])
			binary.LittleEndian.PutUint32(b[:4], uint32(s.points[i]))
			w.Write(b[:4])
		}
		return nil
	})
}

// reader reads a column file whole.
type reader struct {
	b   []byte
	err error
}

func openColumnFile(path string, kind byte) (*reader, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 5 || string(b[:4]) != columnMagic || b[4] != kind {
		return nil, fmt.Errorf("%s: not a column file of this version", path)
	}
	return &reader{b: b[5:]}, nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = io.ErrUnexpectedEOF
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func readStrings(path string, rows int, dynamic bool) (*stringColumn, error) {
	r, err := openColumnFile(path, fileStrings)
	if err != nil {
		return nil, err
	}
	n := int(r.uvarint())
	d := int(r.uvarint())
	if r.err != nil || n != rows || d < 1 || d > len(r.b)+1 || n < 0 || n > len(r.b)/4+1 {
		return nil, fmt.Errorf("%s: damaged", path)
	}
	c := &stringColumn{dynamic: dynamic, dict: make([]string, d), ids: make([]uint32, n)}
	for i := range c.dict {
		c.dict[i] = string(r.bytes(int(r.uvarint())))
	}
	raw := r.bytes(4 * n)
	if r.err != nil {
		return nil, fmt.Errorf("%s: damaged", path)
	}
	for i := range c.ids {
		id := binary.LittleEndian.Uint32(raw[4*i:])
		if int(id) >= d {
			return nil, fmt.Errorf("%s: damaged", path)
		}
		c.ids[i] = id
	}
	return c, nil
}

func readNumbers(path string, rows int, typ kql.Type, dynamic bool) (*numberColumn, error) {
	r, err := openColumnFile(path, fileNumbers)
	if err != nil {
		return nil, err
	}
	n := int(r.uvarint())
	if n != rows {
		return nil, fmt.Errorf("%s: %d rows, the manifest says %d", path, n, rows)
	}
	raw := r.bytes(8 * n)
	nulls := r.bytes(n)
	if r.err != nil {
		return nil, fmt.Errorf("%s: damaged", path)
	}
	c := &numberColumn{typ: typ, dynamic: dynamic, nulls: make([]bool, n)}
	real := typ == kql.TypeReal || dynamic
	if real {
		c.floats = make([]float64, n)
	} else {
		c.ints = make([]int64, n)
	}
	for i := 0; i < n; i++ {
		bits := binary.LittleEndian.Uint64(raw[8*i:])
		if real {
			c.floats[i] = math.Float64frombits(bits)
		} else {
			c.ints[i] = int64(bits)
		}
		c.nulls[i] = nulls[i] != 0
	}
	return c, nil
}

func readRows(path string, rows int) (offsets []int64, points []int32, err error) {
	r, err := openColumnFile(path, fileRows)
	if err != nil {
		return nil, nil, err
	}
	n := int(r.uvarint())
	raw := r.bytes(12 * n)
	if r.err != nil || n != rows {
		return nil, nil, fmt.Errorf("%s: damaged", path)
	}
	offsets, points = make([]int64, n), make([]int32, n)
	for i := 0; i < n; i++ {
		offsets[i] = int64(binary.LittleEndian.Uint64(raw[12*i:]))
		points[i] = int32(binary.LittleEndian.Uint32(raw[12*i+8:]))
	}
	return offsets, points, nil
}

// extentTable is what the manifest says of one table in one extent.
type extentTable struct {
	Rows int `json:"rows"`
	// Properties are the keys of each bag column, by column name.
	Properties map[string][]string `json:"properties,omitempty"`
	// Overflow names the bag columns with properties beyond their own
	// columns (maxBagKeys), kept as JSON in an overflow file.
	Overflow []string `json:"overflow,omitempty"`
}

// columnPath is where a column of a table is; propertyPath, where the
// i-th property (in the manifest's order) of a bag column is: property
// names are data, never file names.
func columnPath(dir, table, column string) string { return filepath.Join(dir, table, column) }

func propertyPath(dir, table, column string, i int) string {
	return filepath.Join(dir, table, column, "p"+strconv.Itoa(i))
}

// writeSegment seals a table's rows into dir/<table>/.
func writeSegment(dir string, s *segment) (extentTable, error) {
	meta := extentTable{Rows: s.n, Properties: map[string][]string{}}
	tableDir := filepath.Join(dir, s.schema.name)
	if err := os.MkdirAll(tableDir, 0o700); err != nil {
		return meta, err
	}
	if err := writeRows(filepath.Join(tableDir, "_rows"), s); err != nil {
		return meta, err
	}
	for i, f := range s.schema.fields {
		path := columnPath(dir, s.schema.name, f.name)
		var err error
		switch c := s.cols[i].(type) {
		case *stringColumn:
			err = writeStrings(path, c)
		case *jsonColumn:
			err = writeStrings(path, c.text)
		case *numberColumn:
			err = writeNumbers(path, c)
		case *bagColumn:
			if err = os.MkdirAll(path, 0o700); err != nil {
				break
			}
			meta.Properties[f.name] = c.keys
			if c.overflow != nil {
				meta.Overflow = append(meta.Overflow, f.name)
				if err = writeStrings(filepath.Join(path, "overflow"), c.overflow); err != nil {
					break
				}
			}
			for k, key := range c.keys {
				if sc, ok := c.strings[key]; ok {
					err = writeStrings(propertyPath(dir, s.schema.name, f.name, k), sc)
				} else {
					err = writeNumbers(propertyPath(dir, s.schema.name, f.name, k), c.numbers[key])
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			return meta, fmt.Errorf("seal %s.%s: %w", s.schema.name, f.name, err)
		}
	}
	return meta, nil
}

// lazy is a sealed column, read from its file the first time a query
// reads it. A file that cannot be read fails the query that needs it,
// and tells the store, which builds its index again.
type lazy struct {
	typ     kql.Type
	load    func() (kql.Column, error)
	onError func(error)
	once    sync.Once
	col     kql.Column
	err     error
}

func (c *lazy) get() kql.Column {
	c.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				c.col, c.err = nil, fmt.Errorf("%v", p)
			}
			if c.err != nil {
				c.onError(c.err)
			}
		}()
		c.col, c.err = c.load()
	})
	if c.err != nil {
		panic(fmt.Errorf("read the index: %w", c.err))
	}
	return c.col
}

func (c *lazy) Type() kql.Type          { return c.typ }
func (c *lazy) Value(row int) kql.Value { return c.get().Value(row) }

// lazyBag is a sealed bag: each property its own lazy column, and the
// overflow's, if any.
type lazyBag struct {
	keys     []string
	props    map[string]*lazy
	overflow *lazy
}

func (c *lazyBag) Type() kql.Type { return kql.TypeDynamic }

func (c *lazyBag) Property(name string) kql.Column {
	if p, ok := c.props[name]; ok {
		return p
	}
	if c.overflow != nil {
		return overflowProperty{overflow: c.overflow, name: name}
	}
	return absent{}
}

func (c *lazyBag) Value(row int) kql.Value {
	bag := map[string]any{}
	for _, k := range c.keys {
		if v := c.props[k].Value(row); !v.Null {
			bag[k] = v.D
		}
	}
	if c.overflow != nil {
		mergeOverflow(bag, c.overflow, row)
	}
	return kql.Dynamic(bag)
}

// openExtentTable is a sealed table's columns, each read when a query
// first needs it; each query opens its own, so that what it read is
// released with it.
func openExtentTable(dir string, schema *tableSchema, meta extentTable, onError func(error)) []kql.Column {
	cols := make([]kql.Column, len(schema.fields))
	rows := meta.Rows
	for i, f := range schema.fields {
		f := f
		path := columnPath(dir, schema.name, f.name)
		var load func() (kql.Column, error)
		switch f.kind {
		case kindString:
			if f.name == "itemId" {
				load = func() (kql.Column, error) {
					offsets, points, err := readRows(filepath.Join(dir, schema.name, "_rows"), rows)
					return &itemIDColumn{table: schema.name, offsets: offsets, points: points}, err
				}
				break
			}
			load = func() (kql.Column, error) { return readStrings(path, rows, false) }
		case kindJSON:
			load = func() (kql.Column, error) {
				c, err := readStrings(path, rows, false)
				return &jsonColumn{text: c}, err
			}
		case kindInt, kindBool, kindReal:
			load = func() (kql.Column, error) { return readNumbers(path, rows, f.typ, false) }
		case kindBag, kindMeasures:
			bag := &lazyBag{keys: meta.Properties[f.name], props: map[string]*lazy{}}
			if slices.Contains(meta.Overflow, f.name) {
				overflow := filepath.Join(path, "overflow")
				bag.overflow = &lazy{typ: kql.TypeString, onError: onError, load: func() (kql.Column, error) { return readStrings(overflow, rows, false) }}
			}
			for k, key := range bag.keys {
				p := propertyPath(dir, schema.name, f.name, k)
				prop := &lazy{typ: kql.TypeDynamic, onError: onError}
				if f.kind == kindBag {
					prop.load = func() (kql.Column, error) { return readStrings(p, rows, true) }
				} else {
					prop.load = func() (kql.Column, error) { return readNumbers(p, rows, kql.TypeReal, true) }
				}
				bag.props[key] = prop
			}
			cols[i] = bag
			continue
		}
		cols[i] = &lazy{typ: f.typ, load: load, onError: onError}
	}
	return cols
}
