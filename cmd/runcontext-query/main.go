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
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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

// version is set by the release build (scripts/build-static.sh).
var version = "dev"

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
	showVersion := fs.Bool("version", false, "print the version, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "runcontext-query version "+version)
		return 0
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
	err = query.Open(*data).Query(text, now, span, func(res *kql.Result) error {
		switch *output {
		case "json":
			return query.WriteAnswer(stdout, res, false)
		case "csv":
			return writeCSV(stdout, res)
		}
		return writeTable(stdout, res)
	})
	if err != nil {
		printError(stderr, text, err)
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

// tableSample is how many rows a table's column widths are measured on;
// rows past it are written as they come, so that a long result streams.
const tableSample = 1000

func writeTable(w io.Writer, res *kql.Result) error {
	bw := bufio.NewWriter(w)
	widths := make([]int, len(res.Columns))
	for i, c := range res.Columns {
		widths[i] = utf8.RuneCountInString(c.Name)
	}
	var sample [][]string
	writeRow := func(cells []string) {
		for i, c := range cells {
			bw.WriteString(c)
			if i < len(cells)-1 {
				bw.WriteString(strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(c), 0)+2))
			}
		}
		bw.WriteByte('\n')
	}
	flushSample := func() {
		header := make([]string, len(res.Columns))
		rule := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			header[i] = c.Name
			rule[i] = strings.Repeat("-", utf8.RuneCountInString(c.Name))
		}
		writeRow(header)
		writeRow(rule)
		for _, cells := range sample {
			writeRow(cells)
		}
		sample = nil
	}
	n := 0
	err := res.Each(func(row []kql.Value) error {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = cell(v)
		}
		n++
		if n <= tableSample {
			for i, c := range cells {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
			sample = append(sample, cells)
			if n == tableSample {
				flushSample()
			}
			return nil
		}
		writeRow(cells)
		return nil
	})
	if err != nil {
		return err
	}
	if n < tableSample {
		flushSample()
	}
	fmt.Fprintf(bw, "(%d rows)\n", n)
	return bw.Flush()
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
	cells := make([]string, len(header))
	err := res.Each(func(row []kql.Value) error {
		for i, v := range row {
			cells[i] = v.Text()
		}
		return cw.Write(cells)
	})
	if err != nil {
		return err
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
