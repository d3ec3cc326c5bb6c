// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Writes a store of envelopes (storegen) to a folder's envelopes.jsonl.
//
//	go run ./query/storegen/cmd -out DIR -traces 1000000
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query/storegen"
)

func main() {
	out := flag.String("out", "", "the store folder to write envelopes.jsonl in")
	traces := flag.Int("traces", 1000, "log records (traces)")
	runs := flag.Int("runs", 40, "pipeline runs")
	days := flag.Int("days", 14, "days the items spread over, ending now")
	now := flag.String("now", "", "the end of the range (RFC 3339); default the current time")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	end := time.Now().UTC()
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			fmt.Fprintln(os.Stderr, "storegen: -now:", err)
			os.Exit(2)
		}
		end = t
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "storegen: -out is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "storegen:", err)
		os.Exit(1)
	}
	f, err := os.Create(filepath.Join(*out, "envelopes.jsonl"))
	if err == nil {
		err = storegen.Write(f, storegen.Options{Now: end, Days: *days, Runs: *runs, Traces: *traces, Seed: *seed})
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storegen:", err)
		os.Exit(1)
	}
}
