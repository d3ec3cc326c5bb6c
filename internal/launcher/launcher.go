// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package launcher runs one pipeline step next to its own collector: it
// starts otelcol-runcontext on free loopback ports, waits until it is
// healthy, runs the step's command pointed at it, forwards SIGINT and
// SIGTERM to the step, then stops the collector so that it delivers what
// the step logged, and exits with the step's exit code.
//
// Logging never fails a training run: a collector that cannot start is
// reported and the step runs anyway, unless Options.Strict.
package launcher // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/launcher"

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options is how the launcher runs one step.
type Options struct {
	// Collector is the collector binary.
	Collector string
	// Configs are the collector's configurations, merged in order.
	Configs []string
	// Protocol is what the step's SDK speaks: http/protobuf or grpc.
	Protocol string
	// Strict makes a collector that cannot start fatal: the step does not
	// run and the launcher exits with ExitCollectorFailed.
	Strict bool
	// StartTimeout bounds the wait until the collector is healthy.
	StartTimeout time.Duration
	// StopTimeout bounds the collector's graceful stop, in which it
	// delivers what the step logged; then it is killed, and what it did
	// not deliver stays in its spool for the next start.
	StopTimeout time.Duration
	// Command is the step: a program and its arguments.
	Command []string

	// Stdin, Stdout and Stderr are the step's; the launcher's own
	// messages and the collector's output go to Stderr.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ is the environment both processes start from.
	Environ []string
}

// ExitCollectorFailed is the exit code when Strict and the collector could
// not start; ExitUsage when the launcher was called wrongly.
const (
	ExitCollectorFailed = 70
	ExitUsage           = 64
)

// secretOfTheCollector is the collector's, not the step's: the step never
// sees it.
const secretOfTheCollector = "APPLICATIONINSIGHTS_CONNECTION_STRING"

// Run runs the step and returns the exit code the launcher must exit with:
// the step's, 128 + the signal's number when a signal ended it.
func Run(opts Options) int {
	l := &launcher{opts: opts}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	col, err := l.startCollector(signals)
	if err != nil {
		if opts.Strict {
			l.say("the collector could not start (--strict, so the step does not run): %v", err)
			return ExitCollectorFailed
		}
		l.say("the collector could not start; the step runs without it, and its telemetry is not exported: %v", err)
	}
	code := l.runStep(col, signals)
	if col != nil {
		col.stop(l)
	}
	return code
}

type launcher struct {
	opts Options
}

// say writes one of the launcher's own lines.
func (l *launcher) say(format string, args ...any) {
	fmt.Fprintf(l.opts.Stderr, "runcontext-launch: "+format+"\n", args...)
}

// collector is the running collector and where it listens.
type collector struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	err      error // once exited is closed
	grpcAddr string
	httpAddr string
	output   *tail
}

// Several steps wrapped on one machine (one per GPU) must not collide.
// Ports are chosen free, and another process may take one before the
// collector binds it: then the collector is started again on others. A
// spool folder takes one collector: the next step's collector takes the
// next of dataSlots folders, and a later step on that folder delivers
// what an earlier one left there.
const (
	portAttempts = 3
	dataSlots    = 16
)

var (
	errPortTaken   = errors.New("a port was taken")
	errSpoolLocked = errors.New("the spool folder is in use")
)

func (l *launcher) startCollector(signals <-chan os.Signal) (*collector, error) {
	base := l.dataDir()
	var err error
	for slot, ports := 0, 0; slot < dataSlots && ports < portAttempts; {
		dir := base
		if slot > 0 {
			dir = filepath.Join(base, fmt.Sprintf("launch-%d", slot))
		}
		var col *collector
		col, err = l.tryCollector(signals, dir)
		switch {
		case err == nil:
			return col, nil
		case errors.Is(err, errPortTaken):
			ports++
		case errors.Is(err, errSpoolLocked):
			slot++
		default:
			return nil, err
		}
	}
	return nil, err
}

// dataDir is where the collectors' data folders go: RUNCONTEXT_DATA_DIR,
// else the sidecar configuration's own default.
func (l *launcher) dataDir() string {
	for _, kv := range slices.Backward(l.opts.Environ) {
		if v, ok := strings.CutPrefix(kv, "RUNCONTEXT_DATA_DIR="); ok && v != "" {
			return v
		}
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "otelcol-runcontext")
}

func (l *launcher) tryCollector(signals <-chan os.Signal, dataDir string) (*collector, error) {
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	loopback := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	col := &collector{
		grpcAddr: loopback(ports[0]),
		httpAddr: loopback(ports[1]),
		exited:   make(chan struct{}),
		output:   &tail{},
	}
	health := loopback(ports[2])
	args := []string{}
	for _, c := range l.opts.Configs {
		args = append(args, "--config", c)
	}
	col.cmd = exec.Command(l.opts.Collector, args...)
	col.cmd.Env = append(slices.Clone(l.opts.Environ),
		"RUNCONTEXT_OTLP_GRPC_ENDPOINT="+col.grpcAddr,
		"RUNCONTEXT_OTLP_HTTP_ENDPOINT="+col.httpAddr,
		"RUNCONTEXT_HEALTH_ENDPOINT="+health,
		"RUNCONTEXT_METRICS_HOST=127.0.0.1",
		fmt.Sprintf("RUNCONTEXT_METRICS_PORT=%d", ports[3]),
		"RUNCONTEXT_INGESTION_ENDPOINT="+loopback(ports[4]),
		"RUNCONTEXT_DATA_DIR="+dataDir,
	)
	// The collector's own process group: a Ctrl-C meant for the step does
	// not stop it before it has delivered.
	detach(col.cmd)
	out, err := col.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	col.cmd.Stderr = col.cmd.Stdout
	if err := col.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", l.opts.Collector, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		col.output.copy(out, l.opts.Stderr)
	}()
	go func() {
		<-copied
		col.err = col.cmd.Wait()
		close(col.exited)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), l.opts.StartTimeout)
	defer cancel()
	for {
		if healthy(ctx, health) {
			return col, nil
		}
		select {
		case <-col.exited:
			switch out := col.output.String(); {
			case strings.Contains(out, "address already in use"):
				return nil, errPortTaken
			case strings.Contains(out, "another collector is using this spool folder"):
				return nil, errSpoolLocked
			}
			return nil, fmt.Errorf("it exited (%v): %s", col.err, col.output.last())
		case sig := <-signals:
			_ = col.cmd.Process.Kill()
			<-col.exited
			return nil, fmt.Errorf("%v before it was ready", sig)
		case <-ctx.Done():
			_ = col.cmd.Process.Kill()
			<-col.exited
			return nil, fmt.Errorf("not healthy after %s: %s", l.opts.StartTimeout, col.output.last())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// healthy asks the collector's health_check.
func healthy(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// runStep runs the command, forwarding signals, and returns its exit code.
func (l *launcher) runStep(col *collector, signals <-chan os.Signal) int {
	cmd := exec.Command(l.opts.Command[0], l.opts.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = l.opts.Stdin, l.opts.Stdout, l.opts.Stderr
	cmd.Env = l.stepEnviron(col)
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		l.say("the step could not start: %v", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			forward(cmd, sig)
		case err := <-done:
			if err != nil && cmd.ProcessState == nil {
				l.say("the step: %v", err)
				return 1
			}
			return exitCode(cmd)
		}
	}
}

// stepEnviron points the step's SDK at the collector, and keeps the
// connection string from it.
func (l *launcher) stepEnviron(col *collector) []string {
	env := slices.DeleteFunc(slices.Clone(l.opts.Environ), func(kv string) bool {
		return strings.HasPrefix(kv, secretOfTheCollector+"=")
	})
	if col == nil {
		return env
	}
	addr := col.httpAddr
	if l.opts.Protocol == "grpc" {
		addr = col.grpcAddr
	}
	return append(env,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+addr,
		"OTEL_EXPORTER_OTLP_PROTOCOL="+l.opts.Protocol,
	)
}

// exitCode is the step's exit code, 128 + the signal that ended it.
func exitCode(cmd *exec.Cmd) int {
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := cmd.ProcessState.ExitCode(); code >= 0 {
		return code
	}
	return 1
}

// stop asks the collector to stop, which delivers what it holds, and
// waits at most StopTimeout.
func (col *collector) stop(l *launcher) {
	select {
	case <-col.exited:
		l.say("the collector had exited during the step (%v): %s", col.err, col.output.last())
		return
	default:
	}
	if err := col.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		// Windows cannot deliver SIGTERM to another process.
		_ = col.cmd.Process.Kill()
		<-col.exited
		l.say("the collector could not be asked to stop (%v) and was killed; what it had not delivered stays in its spool", err)
		return
	}
	select {
	case <-col.exited:
		if col.err != nil {
			l.say("the collector stopped with %v: %s", col.err, col.output.last())
		}
	case <-time.After(l.opts.StopTimeout):
		_ = col.cmd.Process.Kill()
		<-col.exited
		l.say("the collector did not stop within %s and was killed; what it had not delivered stays in its spool for the next start", l.opts.StopTimeout)
	}
}

// freePorts returns n distinct loopback ports nobody listens on now.
func freePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("no free port: %w", err)
		}
		listeners = append(listeners, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tail copies the collector's output to the launcher's stderr, line by
// line with a prefix, and keeps the last lines for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

// keptLines is how much of the collector's output tail remembers.
const keptLines = 100

func (t *tail) copy(r io.Reader, w io.Writer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(w, "otelcol-runcontext: %s\n", line)
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > 2*keptLines {
			t.lines = slices.Clone(t.lines[len(t.lines)-keptLines:])
		}
		t.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // a line too long: keep the pipe drained
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

// last is the collector's last output line, the one that says why.
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(t.lines[i]) != "" {
			return t.lines[i]
		}
	}
	return "(no output)"
}
