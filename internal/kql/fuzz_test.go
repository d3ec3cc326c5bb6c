// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package kql

import (
	"strings"
	"testing"
	"time"
)

type fuzzCatalog struct{ t *MemTable }

func (c fuzzCatalog) Table(name string) (Table, error) {
	if name == "traces" {
		return c.t, nil
	}
	return nil, nil
}
func (c fuzzCatalog) Tables() []string { return []string{"traces"} }

func fuzzTable() *MemTable {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ts := &Values{T: TypeDatetime}
	msg := &Values{T: TypeString}
	lvl := &Values{T: TypeInt}
	cd := &Values{T: TypeDynamic}
	for i := 0; i < 20; i++ {
		ts.Rows = append(ts.Rows, Datetime(now.Add(-time.Duration(i)*time.Hour)))
		msg.Rows = append(msg.Rows, String(strings.Repeat("x", i)+" error"))
		if i%5 == 0 {
			lvl.Rows = append(lvl.Rows, Null(TypeInt))
		} else {
			lvl.Rows = append(lvl.Rows, Int(int64(i%4)))
		}
		cd.Rows = append(cd.Rows, Dynamic(map[string]any{"Level": []string{"INFO", "ERROR"}[i%2], "n": float64(i), "a": []any{1.0, "b", nil}}))
	}
	return &MemTable{Names: []string{"timestamp", "message", "severityLevel", "customDimensions"}, Cols: []Column{ts, msg, lvl, cd}, N: 20}
}

// No query panics the engine: it answers or says why not. The seeds are
// each of the language's constructs, and broken pieces of them.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"traces | where customDimensions.Level == 'ERROR' | summarize count()",
		"traces | summarize count(), dcount(message), avg(severityLevel), percentiles(severityLevel, 50, 90) by bin(timestamp, 1h)",
		"let x = 3; traces | top x by timestamp desc | project-away customDimensions | project-rename m = message",
		"traces | extend n = toint(customDimensions.n) | where n between (2 .. 5) or message has 'error'",
		"traces | mv-expand customDimensions.a | parse message with * ' ' word | distinct word",
		"union traces, (traces | take 1) | join kind=leftouter (traces | project timestamp, m2 = message) on timestamp | count",
		"print a = dynamic({'k': [1, 2]}), b = datetime(2026-01-01) - 1d, c = strcat('a', 1)",
		"range x from 1 to 5 step 1 | extend y = iff(x % 2 == 0, 'even', 'odd') | summarize make_set(y)",
		"search 'error' | render timechart",
		"traces | where", "traces | summarize by", "print 1/0, 1.0/0, todouble('x')", "traces | where message matches regex '('",
		"traces | extend x = substring(message, -5, 1000000)", "print split('', ''), extract('(', 1, 'a')",
		"traces | where customDimensions[0] == 1 | project customDimensions.a[-1]", "let ; traces", "((((", "'unclosed", "$left.x",
	} {
		f.Add(q)
	}
	table := fuzzTable()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, q string) {
		res, err := Run(q, fuzzCatalog{table}, now)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && !strings.HasPrefix(err.Error(), "internal error") {
				t.Fatalf("an error that says no place: %v", err)
			}
			return
		}
		if len(res.Columns) > 0 && res.Len() < 10000 {
			_, _ = res.Rows()
		}
	})
}
