// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package kql runs Kusto Query Language queries over in-process tables:
// the subset that Application Insights log queries and log alerts use.
//
// A query is parsed once (Parse) into a plan whose expressions are
// resolved against the tables' schemas before any row is read; executing
// it then only reads the columns the query names, row by row through
// typed column readers. Semantics follow Kusto's where they are visible
// in a result: typed nulls, case-sensitive == and case-insensitive =~,
// has as a whole-term match, column naming (count_, avg_duration), and
// result column types. A query outside the subset fails with an error
// that names its position and the operator or function, never with a
// wrong answer.
package kql // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
