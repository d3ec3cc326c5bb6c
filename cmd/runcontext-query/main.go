// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// runcontext-query runs KQL over a local Application Insights store (the
// folder config/local.yaml's ingestion endpoint writes), with no collector
// running: the same tables and engine as the endpoint's query API.
//
//	runcontext-query 'traces | where customDimensions.Level == "ERROR" | count'
//	runcontext-query --data .data/appinsights --output json -f alert.kql
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

const usage = `usage: runcontext-query [flags] 'KQL query'
       runcontext-query [flags] -f FILE    (- for standard input)

Runs the query over the Application Insights tables of a local store
(traces, exceptions, requests, dependencies, customEvents, customMetrics)
and prints the result. Exit status: 0, 1 when the query fails, 2 on bad
usage.

flags:
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runcontext-query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	data := fs.String("data", defaultData(), "the store folder (envelopes.jsonl); default $RUNCONTEXT_DATA_DIR/appinsights, else .data/appinsights")
	output := fs.String("output", "table", "table, json (the query API's body) or csv")
	file := fs.String("f", "", "read the query from this file (- for standard input)")
	timespan := fs.String("timespan", "", "limit every table to this ISO 8601 span, as the API's timespan (PT1H, P7D, start/end)")
	schema := fs.Bool("schema", false, "print each table's columns and types, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *schema {
		printSchema(stdout)
		return 0
	}
	text, err := queryText(fs.Args(), *file, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "runcontext-query:", err)
		fs.Usage()
		return 2
	}
	switch *output {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "runcontext-query: --output %q: table, json or csv\n", *output)
		return 2
	}
	if _, err := os.Stat(*data); err != nil {
		fmt.Fprintf(stderr, "runcontext-query: no store at %s (--data): %v\n", *data, err)
		return 2
	}
	now := time.Now().UTC()
	span, err := query.ParseTimespan(*timespan, now)
	if err != nil {
		fmt.Fprintln(stderr, "runcontext-query: --timespan:", err)
		return 2
	}
	res, err := query.Open(*data).Query(text, now, span)
	if err != nil {
		printError(stderr, text, err)
		return 1
	}
	switch *output {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(query.Answer(res))
	case "csv":
		err = writeCSV(stdout, res)
	default:
		err = writeTable(stdout, res)
	}
	if err != nil {
		fmt.Fprintln(stderr, "runcontext-query:", err)
		return 1
	}
	return 0
}

func defaultData() string {
	if dir := os.Getenv("RUNCONTEXT_DATA_DIR"); dir != "" {
		return dir + "/appinsights"
	}
	return ".data/appinsights"
}

func queryText(args []string, file string, stdin io.Reader) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", errors.New("give the query as an argument or with -f, not both")
	case file == "-":
		b, err := io.ReadAll(stdin)
		return string(b), err
	case file != "":
		b, err := os.ReadFile(file)
		return string(b), err
	case len(args) == 1:
		return args[0], nil
	case len(args) > 1:
		return "", errors.New("one query: quote it ('traces | take 10')")
	}
	return "", errors.New("no query")
}

// printError shows where the query failed, under its line.
func printError(w io.Writer, text string, err error) {
	var qe *kql.Error
	if !errors.As(err, &qe) {
		fmt.Fprintln(w, "runcontext-query:", err)
		return
	}
	fmt.Fprintln(w, "runcontext-query: query error:", qe.Error())
	lines := strings.Split(text, "\n")
	if qe.Line >= 1 && qe.Line <= len(lines) {
		line := lines[qe.Line-1]
		fmt.Fprintln(w, "  "+line)
		col := min(max(qe.Column-1, 0), len(line))
		fmt.Fprintln(w, "  "+strings.Repeat(" ", utf8.RuneCountInString(line[:col]))+"^")
	}
}

func cell(v kql.Value) string {
	s := v.Text()
	return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}

func writeTable(w io.Writer, res *kql.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var header, rule []string
	for _, c := range res.Columns {
		header = append(header, c.Name)
		rule = append(rule, strings.Repeat("-", utf8.RuneCountInString(c.Name)))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	fmt.Fprintln(tw, strings.Join(rule, "\t"))
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = cell(v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(%d rows)\n", len(res.Rows))
	return err
}

func writeCSV(w io.Writer, res *kql.Result) error {
	cw := csv.NewWriter(w)
	var header []string
	for _, c := range res.Columns {
		header = append(header, c.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = v.Text()
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func printSchema(w io.Writer) {
	schema := query.Schema()
	for _, name := range query.Tables() {
		fmt.Fprintln(w, name)
		for _, c := range schema[name] {
			fmt.Fprintf(w, "  %-28s %s\n", c.Name, c.Type)
		}
	}
}
