// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"testing"
	"time"
)

// What a review found, each as a query and the answer Kusto gives.
func TestKustoSemantics(t *testing.T) {
	c := fuzzCatalog{fuzzTable()}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ name, query, want string }{
		{"a let named after a table sees the table", "let traces = traces | where severityLevel == 1; traces | count", "[[4]]"},
		{"a let sees the lets before it", "let a = traces | take 3; let b = a | take 2; b | count", "[[2]]"},
		{"null == value is false", "print x = int(null) == 1, y = int(null) != 1, z = int(null) < 1", `[[false,true,null]]`},
		{"a missing property != a value is true", "traces | where customDimensions.nope != 'DEBUG' | count", "[[20]]"},
		{"a null is in no list", "print a = int(null) in (1, 2), b = int(null) !in (1, 2)", "[[false,true]]"},
		{"make_list's most items", "traces | summarize make_list(severityLevel, 2)", "[[[1,2]]]"},
		{"arithmetic on a dynamic string is null", "print x = dynamic('7') + 1, y = dynamic(7) + 1", "[[null,8]]"},
		{"avg skips what is not a number", "print v = dynamic(['a', 2, 4]) | mv-expand v | summarize avg(v)", "[[3]]"},
		{"dynamic text keeps < and >", "print tostring(dynamic({'f': '<module>'}))", `[["{\"f\":\"<module>\"}"]]`},
		{"7d bins start on Mondays", "print bin(datetime(2026-11-26), 7d)", `[["2026-11-23T00:00:00Z"]]`},
		{"tolong of a datetime is .NET ticks", "print tolong(datetime(1970-01-01))", "[[621355968000000000]]"},
		{"union keeps each type of a name", "union (print x = 1), (print x = 'a') | project x_long, x_string", `[[1,""],[null,"a"]]`},
		{"summarize keeps the items' order", "traces | summarize pct = 100.0 * countif(severityLevel == 1) / count(), n = count()", "[[20,20]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(tc.query, c, now)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := res.Rows()
			if err != nil {
				t.Fatal(err)
			}
			var out [][]any
			for _, r := range rows {
				var o []any
				for _, v := range r {
					o = append(o, v.JSON())
				}
				out = append(out, o)
			}
			if got := marshalJSON(out); got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.query, got, tc.want)
			}
		})
	}
}

// Input that would exhaust the stack or the memory fails, saying why.
func TestBounds(t *testing.T) {
	c := fuzzCatalog{fuzzTable()}
	deep := "print " + repeat("(", 300) + "1" + repeat(")", 300)
	for _, q := range []string{
		deep,
		"print " + repeat("-", 1000) + "1",
		"range x from 1 to 100000000 step 1",
		"range x from 1 to 3000 step 1 | extend k = 1 | join kind=inner (range y from 1 to 3000 step 1 | extend k = 1) on k",
		"let t = t; t",
	} {
		if _, err := Run(q, c, time.Now()); err == nil {
			t.Errorf("%.60s... answered", q)
		}
	}
}

func repeat(s string, n int) string {
	out := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		out = append(out, s...)
	}
	return string(out)
}
