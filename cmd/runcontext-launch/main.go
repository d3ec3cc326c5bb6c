// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Command runcontext-launch runs one pipeline step next to its own
// otelcol-runcontext collector:
//
//	runcontext-launch [flags] -- python train.py --epochs 3
//
// It starts the collector on free loopback ports, waits until it is
// healthy, runs the command with OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_PROTOCOL pointing at it (and without
// APPLICATIONINSIGHTS_CONNECTION_STRING, which only the collector needs),
// forwards SIGINT and SIGTERM to the command, stops the collector when the
// command ends so that it delivers what was logged, and exits with the
// command's exit code (128 + the signal when a signal ended it).
//
// A collector that cannot start is reported and the command runs anyway:
// logging never fails a training run. --strict makes it fatal (exit 70).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/launcher"
)

// configs is the repeatable --config flag.
type configs []string

func (c *configs) String() string     { return strings.Join(*c, ",") }
func (c *configs) Set(v string) error { *c = append(*c, v); return nil }

// version is stamped in by the release build (-X main.version=...).
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("runcontext-launch", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: runcontext-launch [flags] -- command [args...]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	opts := launcher.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}
	var cfgs configs
	fs.StringVar(&opts.Collector, "collector", defaultCollector(), "the otelcol-runcontext binary")
	fs.Var(&cfgs, "config", "a collector configuration; repeat to merge several (default: $RUNCONTEXT_CONFIG, else azure.yaml of the installation)")
	fs.StringVar(&opts.Protocol, "protocol", "http/protobuf", "what the step's SDK speaks: http/protobuf or grpc")
	fs.BoolVar(&opts.Strict, "strict", false, "do not run the step when the collector cannot start (exit 70)")
	fs.DurationVar(&opts.StartTimeout, "start-timeout", 30*time.Second, "how long to wait for the collector to be healthy")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.DurationVar(&opts.StopTimeout, "stop-timeout", 45*time.Second, "how long the collector may take to deliver and stop after the step; longer than the exporter's and the spool's shutdown_timeout (15 s each)")
	if err := fs.Parse(args); err != nil {
		return launcher.ExitUsage
	}
	if *showVersion {
		fmt.Println("runcontext-launch version " + version)
		return 0
	}
	opts.Command = fs.Args()
	if len(opts.Command) == 0 {
		fmt.Fprintln(os.Stderr, "runcontext-launch: no command: runcontext-launch [flags] -- command [args...]")
		return launcher.ExitUsage
	}
	if opts.Protocol != "http/protobuf" && opts.Protocol != "grpc" {
		fmt.Fprintf(os.Stderr, "runcontext-launch: --protocol %q: use http/protobuf or grpc\n", opts.Protocol)
		return launcher.ExitUsage
	}
	opts.Configs = cfgs
	if len(opts.Configs) == 0 {
		opts.Configs = []string{defaultConfig()}
	}
	return launcher.Run(opts)
}

// defaultCollector is otelcol-runcontext beside this program, as the image
// and the release archives install it, else whatever $PATH finds.
func defaultCollector() string {
	name := "otelcol-runcontext"
	if filepath.Ext(os.Args[0]) == ".exe" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(beside); err == nil {
			return beside
		}
	}
	return name
}

// defaultConfig is $RUNCONTEXT_CONFIG, else the sidecar configuration
// where the image (/etc/otelcol-runcontext) or a release archive (config/
// beside the binaries) puts it.
func defaultConfig() string {
	if c := os.Getenv("RUNCONTEXT_CONFIG"); c != "" {
		return c
	}
	candidates := []string{"/etc/otelcol-runcontext/azure.yaml"}
	if self, err := os.Executable(); err == nil {
		candidates = append([]string{filepath.Join(filepath.Dir(self), "config", "azure.yaml")}, candidates...)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}
