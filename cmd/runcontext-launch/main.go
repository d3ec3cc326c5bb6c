// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Command runcontext-launch runs one pipeline step next to its own
// otelcol-runcontext collector, the zero-code path:
//
//	runcontext-launch [flags] -- python train.py --epochs 3
//
// It starts the collector on free loopback ports, runs the command with
// its OpenTelemetry SDK pointed at it (and without
// APPLICATIONINSIGHTS_CONNECTION_STRING, which only the collector needs),
// sends every line the command prints as a log record and the command
// itself as a CICD task-run span, supervises it (signals, a grace period,
// what it leaves running), stops the collector so that it delivers, and
// exits with the command's exit code (128 + the signal when a signal ended
// it). README.md has every flag and behaviour.
//
// A collector that cannot start is reported and the command runs anyway:
// logging never fails a training run. --strict makes it fatal (exit 70).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	fs.BoolVar(&opts.Verbose, "verbose", false, "show all of the collector's output, not only its warnings and errors")
	local := fs.Bool("local", false, "keep the telemetry on this machine: run the collector on local.yaml, which stores what Application Insights would receive, and needs no connection string")
	capture := fs.String("capture", string(launcher.CaptureAuto), "which of the step's streams become log records: auto (both, without the lines the step's own OpenTelemetry SDK sends), all, stdout, stderr or none")
	fs.DurationVar(&opts.DuplicateWindow, "duplicate-window", launcher.DefaultDuplicateWindow, "with --capture=auto, how long a printed line waits for the step's SDK to send it before the launcher does")
	fs.DurationVar(&opts.ProgressEvery, "progress-every", launcher.DefaultProgressEvery, "how often a line redrawn with carriage returns (a progress bar) is sent while it keeps changing; 0: only its final text")
	fs.IntVar(&opts.BufferBytes, "capture-buffer", 8<<20, "bytes of the step's output, per stream, held while they wait to be sent; beyond it lines are dropped (and counted), never the step slowed")
	fs.Float64Var(&opts.LinesPerSecond, "max-lines-per-second", launcher.DefaultLinesPerSecond, "captured lines a second, sustained; beyond it (and --max-lines-burst) lines are dropped and counted, and still shown; 0: no limit")
	fs.IntVar(&opts.LinesBurst, "max-lines-burst", launcher.DefaultLinesBurst, "captured lines a step may print at once beyond --max-lines-per-second")
	fs.StringVar(&opts.TaskName, "task-name", "", "the step's name on its task-run span (default: the platform's step name, else the command's)")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "stop a step that runs longer than this (result timeout); 0: no limit")
	fs.DurationVar(&opts.KillAfter, "kill-after", launcher.DefaultKillAfter, "how long the step has to stop after SIGTERM before it is killed; 0: never killed")
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
	if opts.KillAfter == 0 {
		opts.KillAfter = -1 // never
	}
	opts.Capture = launcher.CaptureMode(*capture)
	if !slices.Contains(launcher.CaptureModes, opts.Capture) {
		fmt.Fprintf(os.Stderr, "runcontext-launch: --capture %q: use one of %v\n", *capture, launcher.CaptureModes)
		return launcher.ExitUsage
	}
	opts.Configs, opts.Local = cfgs, *local
	if len(opts.Configs) == 0 {
		opts.Configs = []string{defaultConfig(*local)}
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
// (azure.yaml, or local.yaml for --local) where the image
// (/etc/otelcol-runcontext), a release archive (config/ beside the
// binaries) or a checkout (config/ above bin/) puts it.
func defaultConfig(local bool) string {
	name := "azure.yaml"
	if local {
		name = "local.yaml"
	} else if c := os.Getenv("RUNCONTEXT_CONFIG"); c != "" {
		return c
	}
	candidates := []string{filepath.Join("/etc/otelcol-runcontext", name)}
	if self, err := os.Executable(); err == nil {
		dir := filepath.Dir(self)
		candidates = append([]string{filepath.Join(dir, "config", name), filepath.Join(dir, "..", "config", name)}, candidates...)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}
