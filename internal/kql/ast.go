// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

// The syntax tree of a query. Every node keeps its byte offset, so that
// an error found while planning names where it is.

// Query is a query's let statements and its tabular expression.
type Query struct {
	Lets []*Let
	Body *Pipeline
	text string
}

// Let binds a name to a scalar or a tabular expression.
type Let struct {
	Name    string
	Scalar  Expr
	Tabular *Pipeline
	Pos     int
}

// Pipeline is a source followed by tabular operators.
type Pipeline struct {
	Source Source
	Ops    []Op
	Pos    int
}

// Source is where a pipeline's rows come from.
type Source interface{ pos() int }

// TableRef names a table or a tabular let.
type TableRef struct {
	Name string
	Pos  int
}

// UnionSource is union as the first operator: union T1, T2.
type UnionSource struct{ Union *UnionOp }

// PrintSource is print a = 1, b = 'x': one row.
type PrintSource struct {
	Items []NamedExpr
	Pos   int
}

// SearchSource is search "term" over every table.
type SearchSource struct {
	Search *SearchOp
}

// RangeSource is range x from a to b step c.
type RangeSource struct {
	Name           string
	From, To, Step Expr
	Pos            int
}

func (s *TableRef) pos() int     { return s.Pos }
func (s *UnionSource) pos() int  { return s.Union.Pos }
func (s *PrintSource) pos() int  { return s.Pos }
func (s *SearchSource) pos() int { return s.Search.Pos }
func (s *RangeSource) pos() int  { return s.Pos }

// Op is a tabular operator after a pipe.
type Op interface{ opName() string }

type (
	WhereOp struct {
		Pred Expr
		Pos  int
	}
	ProjectOp struct {
		Items []NamedExpr
		Pos   int
	}
	ProjectAwayOp struct {
		Names []string
		Pos   int
	}
	ProjectRenameOp struct {
		Pairs [][2]string // new, old
		Pos   int
	}
	ExtendOp struct {
		Items []NamedExpr
		Pos   int
	}
	SummarizeOp struct {
		Aggs []NamedExpr
		By   []NamedExpr
		Pos  int
	}
	SortOp struct {
		Keys []SortKey
		Pos  int
	}
	TopOp struct {
		N   Expr
		Key SortKey
		Pos int
	}
	TakeOp struct {
		N   Expr
		Pos int
	}
	CountOp    struct{ Pos int }
	DistinctOp struct {
		Items []NamedExpr // nil for distinct *
		Pos   int
	}
	UnionOp struct {
		Tables     []*Pipeline
		WithSource string
		Pos        int
	}
	JoinOp struct {
		Kind  string
		Right *Pipeline
		On    []JoinKey
		Pos   int
	}
	MvExpandOp struct {
		Items []NamedExpr
		To    Type
		Pos   int
	}
	ParseOp struct {
		Source Expr
		Parts  []ParsePart
		Pos    int
	}
	SearchOp struct {
		Term string
		Pos  int
	}
	RenderOp struct {
		Chart string
		Pos   int
	}
)

func (*WhereOp) opName() string         { return "where" }
func (*ProjectOp) opName() string       { return "project" }
func (*ProjectAwayOp) opName() string   { return "project-away" }
func (*ProjectRenameOp) opName() string { return "project-rename" }
func (*ExtendOp) opName() string        { return "extend" }
func (*SummarizeOp) opName() string     { return "summarize" }
func (*SortOp) opName() string          { return "sort" }
func (*TopOp) opName() string           { return "top" }
func (*TakeOp) opName() string          { return "take" }
func (*CountOp) opName() string         { return "count" }
func (*DistinctOp) opName() string      { return "distinct" }
func (*UnionOp) opName() string         { return "union" }
func (*JoinOp) opName() string          { return "join" }
func (*MvExpandOp) opName() string      { return "mv-expand" }
func (*ParseOp) opName() string         { return "parse" }
func (*SearchOp) opName() string        { return "search" }
func (*RenderOp) opName() string        { return "render" }

// NamedExpr is `name = expr`, or an expression whose name is derived.
type NamedExpr struct {
	Name string // empty: derived from the expression
	Expr Expr
}

// SortKey is an expression with its direction and where nulls go.
type SortKey struct {
	Expr       Expr
	Asc        bool
	NullsFirst bool
}

// JoinKey is `col` (the same on both sides) or `$left.a == $right.b`.
type JoinKey struct {
	Left, Right string
	Pos         int
}

// ParsePart is a constant string to match, or a column to extract.
type ParsePart struct {
	Const  string
	Column string
	Type   Type
	Star   bool
}

// Expr is a scalar expression.
type Expr interface{ pos() int }

type (
	Literal struct {
		Value Value
		Pos   int
	}
	Ident struct {
		Name string
		Pos  int
	}
	Member struct {
		X    Expr
		Name string
		Pos  int
	}
	IndexExpr struct {
		X   Expr
		Key Expr
		Pos int
	}
	Call struct {
		Name string
		Args []Expr
		Pos  int
	}
	Binary struct {
		Op   string // ==, and, has, !contains, matches regex, ...
		L, R Expr
		Pos  int
	}
	Unary struct {
		Op  string // -, not
		X   Expr
		Pos int
	}
	InExpr struct {
		X    Expr
		List []Expr
		Not  bool
		CI   bool
		Pos  int
	}
	Between struct {
		X, Lo, Hi Expr
		Not       bool
		Pos       int
	}
	Star struct{ Pos int }
	// NamedArg is name = expr as a call's argument.
	NamedArg struct {
		Name string
		X    Expr
		Pos  int
	}
)

func (e *Literal) pos() int   { return e.Pos }
func (e *Ident) pos() int     { return e.Pos }
func (e *Member) pos() int    { return e.Pos }
func (e *IndexExpr) pos() int { return e.Pos }
func (e *Call) pos() int      { return e.Pos }
func (e *Binary) pos() int    { return e.Pos }
func (e *Unary) pos() int     { return e.Pos }
func (e *InExpr) pos() int    { return e.Pos }
func (e *Between) pos() int   { return e.Pos }
func (e *Star) pos() int      { return e.Pos }
func (e *NamedArg) pos() int  { return e.Pos }
