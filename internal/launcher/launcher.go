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

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
)

// Options is how the launcher runs one step.
type Options struct {
	// Collector is the collector binary.
	Collector string
	// Configs are the collector's configurations, merged in order.
	Configs []string
	// Local marks Configs as the local configuration (--local): what the
	// step sends stays on this machine, and no connection string is
	// needed.
	Local bool
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
	// TaskName names the step's task-run span; empty, the detected
	// platform's step name, else the command's.
	TaskName string
	// Timeout, when positive, ends a step that runs longer (result
	// timeout).
	Timeout time.Duration
	// KillAfter is how long a step (and what it left running) has between
	// SIGTERM and SIGKILL; negative, the step is never killed (what it
	// leaves running gets DefaultKillAfter).
	KillAfter time.Duration

	// Capture is which of the step's streams become log records.
	Capture CaptureMode
	// DuplicateWindow is how long, with CaptureAuto, a captured line
	// waits for the step's own SDK to send it before it is sent.
	DuplicateWindow time.Duration
	// ProgressEvery is how often a line redrawn with carriage returns is
	// sent with its current text while it keeps changing.
	ProgressEvery time.Duration
	// BufferBytes bounds the captured output not yet sent, per stream.
	BufferBytes int
	// LinesPerSecond and LinesBurst bound the rate of captured lines; 0
	// sets no bound.
	LinesPerSecond float64
	LinesBurst     int

	// Verbose shows all of the collector's output, not only its warnings
	// and errors.
	Verbose bool

	// Stdin, Stdout and Stderr are the step's; the launcher's own
	// messages and the collector's output go to Stderr.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Environ is the environment both processes start from.
	Environ []string
}

// The defaults of the options that have one.
const (
	// DefaultKillAfter is the grace between SIGTERM and SIGKILL.
	DefaultKillAfter = 10 * time.Second
	// DefaultDuplicateWindow is longer than the SDKs' batch delay (1 s
	// for Python's and Go's log processors) plus an export.
	DefaultDuplicateWindow = 5 * time.Second
	// DefaultProgressEvery sends a progress bar's state every 30 s.
	DefaultProgressEvery = 30 * time.Second
	// DefaultLinesPerSecond and DefaultLinesBurst let a step print 5 000
	// lines at once and 1 000 a second for ever. Every captured line costs
	// CPU on its way to Application Insights (the launcher, the
	// collector's exporter and spool): without the bound, a step that
	// floods its console takes 9.4 times its own wall time, with it 1.26
	// to 1.62 times (docs/benchmarks.md).
	DefaultLinesPerSecond = 1000
	DefaultLinesBurst     = 5000
)

// CaptureMode is which of the step's streams become log records.
type CaptureMode string

// The capture modes. CaptureAuto captures both streams and leaves out
// the lines the step's own SDK sends; the others capture what they name,
// every line.
const (
	CaptureAuto   CaptureMode = "auto"
	CaptureNone   CaptureMode = "none"
	CaptureStdout CaptureMode = "stdout"
	CaptureStderr CaptureMode = "stderr"
	CaptureAll    CaptureMode = "all"
)

// CaptureModes lists the modes, for the flag's help and its check.
var CaptureModes = []CaptureMode{CaptureAuto, CaptureNone, CaptureStdout, CaptureStderr, CaptureAll}

func (m CaptureMode) captures(s console.Stream) bool {
	switch m {
	case CaptureAuto, CaptureAll:
		return true
	case CaptureStdout:
		return s == console.Stdout
	case CaptureStderr:
		return s == console.Stderr
	}
	return false
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
	if opts.Capture == "" {
		opts.Capture = CaptureAuto
	}
	if opts.KillAfter == 0 {
		opts.KillAfter = DefaultKillAfter
	}
	if opts.DuplicateWindow <= 0 {
		opts.DuplicateWindow = DefaultDuplicateWindow
	}
	l := &launcher{opts: opts}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, supervisedSignals...)
	defer signal.Stop(signals)
	becomeSubreaper()

	var col *collector
	err := l.configProblem()
	if err == nil {
		col, err = l.startCollector(signals)
	}
	var interrupted interruptedError
	if errors.As(err, &interrupted) {
		l.say("%v while the collector was starting: the step does not run", interrupted.sig)
		return 128 + signalNumber(interrupted.sig)
	}
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

// interruptedError is a signal that came before the step started.
type interruptedError struct{ sig os.Signal }

func (e interruptedError) Error() string { return e.sig.String() + " before the collector was ready" }

// configProblem names, in one line, what is missing for the collector to
// start: a configuration file, or the connection string it needs.
func (l *launcher) configProblem() error {
	for _, c := range l.opts.Configs {
		text, err := os.ReadFile(c)
		if err != nil {
			return fmt.Errorf("no configuration at %s: pass --config FILE, set RUNCONTEXT_CONFIG, or try --local to keep the telemetry on this machine", c)
		}
		if !l.opts.Local && strings.Contains(string(text), "${env:"+secretOfTheCollector+"}") && getenvOf(l.opts.Environ)(secretOfTheCollector) == "" {
			return fmt.Errorf("%s is not set: set it to your Application Insights resource's connection string, or try --local to keep the telemetry on this machine", secretOfTheCollector)
		}
	}
	return nil
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
			if slot > 0 {
				l.say("the spool folder %s is in use by another collector: this step's collector uses %s", base, dir)
			}
			if l.opts.Local {
				store := filepath.Join(dir, "appinsights")
				l.say("--local: what the step sends is stored in %s; query it with: runcontext-query --data %s 'traces | take 10'", filepath.Join(store, "envelopes.jsonl"), store)
			}
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
	if v := getenvOf(l.opts.Environ)("RUNCONTEXT_DATA_DIR"); v != "" {
		return v
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "otelcol-runcontext")
}

// healthPoll is how often the collector's health is asked while it starts:
// each wasted poll interval is time added to every step.
const healthPoll = 5 * time.Millisecond

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
		output:   &tail{w: l.opts.Stderr, verbose: l.opts.Verbose},
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
		col.output.copy(out)
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
			col.output.goLive()
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
			return nil, interruptedError{sig}
		case <-ctx.Done():
			_ = col.cmd.Process.Kill()
			<-col.exited
			return nil, fmt.Errorf("not healthy after %s: %s", l.opts.StartTimeout, col.output.last())
		case <-time.After(healthPoll):
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

// unaskedStopGrace is how long a collector that cannot be asked to stop
// runs on after the step: its exporters' batch interval (maxbatchinterval
// 1 s in config/), and a request's time.
const unaskedStopGrace = 2 * time.Second

// stop asks the collector to stop, which delivers what it holds, and
// waits at most StopTimeout.
func (col *collector) stop(l *launcher) {
	select {
	case <-col.exited:
		l.say("the collector had exited during the step (%v): %s", col.err, col.output.last())
		return
	default:
	}
	if err := terminate(col.cmd.Process); err != nil {
		// Windows without a console to send Ctrl-Break on: give the
		// exporter its batch interval to hand what it holds to the spool,
		// which delivers it, then kill.
		select {
		case <-col.exited:
		case <-time.After(unaskedStopGrace):
			_ = col.cmd.Process.Kill()
			<-col.exited
		}
		l.say("the collector could not be asked to stop (%v) and was killed %s after the step: what it received in its last second may be lost, what it had spooled stays for the next start", err, unaskedStopGrace)
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

// tail copies the collector's warnings and errors to the launcher's
// stderr (all of its output when verbose), line by line with a prefix,
// and keeps the last lines for error messages. The step's console is the
// step's: the collector's start and stop are not news there.
type tail struct {
	mu    sync.Mutex
	lines []string
	// Until the collector is healthy, its lines are only kept: an attempt
	// the launcher makes again (a port taken, a spool folder in use) is
	// not news, and a final failure is told in the launcher's own line.
	live    bool
	w       io.Writer
	verbose bool
}

// keptLines is how much of the collector's output tail remembers.
const keptLines = 100

func (t *tail) copy(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.mu.Lock()
		if t.live {
			t.show(line)
		}
		t.lines = append(t.lines, line)
		if len(t.lines) > 2*keptLines {
			t.lines = slices.Clone(t.lines[len(t.lines)-keptLines:])
		}
		t.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // a line too long: keep the pipe drained
}

// goLive shows what the collector said while it started, and from now on
// what it says.
func (t *tail) goLive() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, line := range t.lines {
		t.show(line)
	}
	t.live = true
}

// show writes one line of the collector's; called with mu held.
func (t *tail) show(line string) {
	if t.verbose || !isRoutine(line) {
		fmt.Fprintf(t.w, "otelcol-runcontext: %s\n", line)
	}
}

// isRoutine is a collector log line below warn: zap's console encoder
// writes "time<TAB>level<TAB>...". Anything else (a panic, a message
// before the logger is up) is shown.
func isRoutine(line string) bool {
	fields := strings.SplitN(line, "\t", 3)
	return len(fields) == 3 && (fields[1] == "info" || fields[1] == "debug")
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
