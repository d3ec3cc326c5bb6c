// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package launcher

import (
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/console"
)

// pipeGrace is how long the launcher reads the step's streams after its
// process group has ended: a process that left the group (setsid) may
// hold them open for ever.
const pipeGrace = 2 * time.Second

// runStep runs the command and returns its exit code. With a collector,
// it reports the step as a task-run span, captures its output, and sends
// its summary.
func (l *launcher) runStep(col *collector, signals <-chan os.Signal) int {
	t := taskOf(l.opts.TaskName, l.opts.Command, l.opts.Environ)
	var tel *stepTelemetry
	if col != nil {
		var err error
		if tel, err = startTelemetry(col.httpAddr, t, l.opts.Environ); err != nil {
			l.say("the step's own telemetry (its span and output) is off: %v", err)
		}
	}

	cmd := exec.Command(l.opts.Command[0], l.opts.Command[1:]...)
	cmd.Stdin = l.opts.Stdin
	cmd.Stdout, cmd.Stderr = l.opts.Stdout, l.opts.Stderr
	foreground := ownGroup(cmd, l.opts.Stdin)

	var (
		capture *console.Capture
		sink    *recordSink
		proxy   *stepProxy
		streams []*os.File // the launcher's read ends
		writers []*os.File // the step's write ends, closed once it runs
	)
	endpoint := ""
	if col != nil {
		endpoint = col.endpoint(l.opts.Protocol)
	}
	if tel != nil && l.opts.Capture != CaptureNone {
		var seen *seenIndex
		if l.opts.Capture == CaptureAuto {
			seen = newSeenIndex(2 * l.opts.DuplicateWindow)
			var err error
			if proxy, err = startProxy(l.opts.Protocol, endpoint, seen); err != nil {
				l.say("lines the step's SDK also sends may arrive twice: %v", err)
				seen = nil
			} else {
				endpoint = proxy.addr
			}
		}
		sink = newRecordSink(tel, seen, l.opts.DuplicateWindow)
		capture = console.New(console.Options{
			BufferBytes: l.opts.BufferBytes, ProgressEvery: l.opts.ProgressEvery,
			LinesPerSecond: l.opts.LinesPerSecond, Burst: l.opts.LinesBurst,
		}, sink)
		for _, s := range []struct {
			stream  console.Stream
			step    *io.Writer
			console io.Writer
		}{{console.Stdout, &cmd.Stdout, l.opts.Stdout}, {console.Stderr, &cmd.Stderr, l.opts.Stderr}} {
			if !l.opts.Capture.captures(s.stream) {
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				l.say("the step's %s is not captured: %v", s.stream, err)
				continue
			}
			growPipe(w)
			streams, writers = append(streams, r), append(writers, w)
			*s.step = w
			capture.Copy(s.stream, r, s.console)
		}
	}
	cmd.Env = l.stepEnviron(endpoint, tel)

	start := time.Now()
	err := cmd.Start()
	for _, w := range writers {
		_ = w.Close()
	}
	if err != nil {
		l.say("the step could not start: %v", err)
		for _, r := range streams {
			_ = r.Close()
		}
		l.finish(tel, capture, sink, proxy, stepOutcome{code: 127, result: resultError, errType: "start", duration: time.Since(start)})
		return 127
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var (
		cancelledBy os.Signal
		timedOut    bool
		timeout     <-chan time.Time
		killAfter   <-chan time.Time
	)
	if l.opts.Timeout > 0 {
		timeout = time.After(l.opts.Timeout)
	}
	escalate := func() {
		if killAfter == nil && l.opts.KillAfter > 0 {
			killAfter = time.After(l.opts.KillAfter)
		}
	}
	for waiting := true; waiting; {
		select {
		case sig := <-signals:
			forward(cmd, sig)
			if ends(sig) {
				cancelledBy = sig
				escalate()
			}
		case <-timeout:
			timedOut = true
			l.say("the step ran longer than --timeout %s: stopping it", l.opts.Timeout)
			forward(cmd, syscall.SIGTERM)
			escalate()
		case <-killAfter:
			l.say("the step did not stop within --kill-after %s: killing it", l.opts.KillAfter)
			kill(cmd)
		case err = <-done:
			waiting = false
		}
	}
	if foreground {
		takeTerminalBack(l.opts.Stdin)
	}
	if err != nil && cmd.ProcessState == nil {
		l.say("the step: %v", err)
		for _, r := range streams {
			_ = r.Close()
		}
		l.finish(tel, capture, sink, proxy, stepOutcome{code: 1, result: resultError, errType: "wait", duration: time.Since(start)})
		return 1
	}
	switch endGroup(cmd, leftoverGrace(l.opts.KillAfter)) {
	case groupStopped:
		l.say("the step's main process exited and left processes running in its group: they were stopped")
	case groupStuck:
		l.say("the step's main process exited and left processes in its group that do not end even with SIGKILL (a zombie, or a process stuck in the kernel): the launcher goes on without them")
	}
	if capture != nil {
		// Whatever still holds the step's streams (a process that left
		// its group) is not waited for once they have been quiet a while;
		// a backlog still being read is.
		stop := closeWhenQuiet(capture, streams)
		defer stop()
	}

	code := exitCode(cmd)
	o := stepOutcome{code: code, result: resultSuccess, duration: time.Since(start)}
	switch {
	case timedOut:
		o.result, o.errType = resultTimeout, "timeout"
	case cancelledBy != nil:
		o.result, o.errType = resultCancellation, signalName(cancelledBy)
	case code != 0:
		o.result, o.errType = resultFailure, exitReason(cmd)
	}
	l.finish(tel, capture, sink, proxy, o)
	return code
}

// closeWhenQuiet closes the step's streams once nothing has been read
// from them for pipeGrace; the returned func stops watching.
func closeWhenQuiet(capture *console.Capture, streams []*os.File) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(pipeGrace / 20)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				if now.Sub(capture.LastRead()) >= pipeGrace {
					for _, r := range streams {
						_ = r.Close()
					}
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// ends is whether sig asks the step to end: SIGQUIT asks a JVM or a Go
// program for a dump, and it runs on.
func ends(sig os.Signal) bool {
	return sig != sigQuit
}

// leftoverGrace is what the step's leftover processes get between SIGTERM
// and SIGKILL: --kill-after, or its default when the step itself is never
// killed (--kill-after 0).
func leftoverGrace(killAfter time.Duration) time.Duration {
	if killAfter > 0 {
		return killAfter
	}
	return DefaultKillAfter
}

// finish sends the rest of the step's output, its summary and its span,
// within StopTimeout.
func (l *launcher) finish(tel *stepTelemetry, capture *console.Capture, sink *recordSink, proxy *stepProxy, o stepOutcome) {
	var dropped int64
	if capture != nil {
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.StopTimeout)
		if !capture.Close(ctx) {
			l.say("the step's output was not all sent within --stop-timeout %s: the rest is dropped", l.opts.StopTimeout)
		}
		cancel()
		dropped = capture.Dropped()
		sink.drain()
	}
	if proxy != nil {
		proxy.close()
	}
	if tel == nil {
		return
	}
	if sink == nil {
		sink = newRecordSink(tel, nil, 0)
	}
	delivered, summary := tel.finish(o, sink, dropped, l.opts.StopTimeout)
	if dropped > 0 || !delivered {
		l.say("%s", summary)
	}
}

// stepEnviron points the step's SDK at endpoint, the collector (or the
// launcher's proxy in front of it), in the task-run span's trace, and
// keeps the connection string from it.
func (l *launcher) stepEnviron(endpoint string, tel *stepTelemetry) []string {
	env := slices.DeleteFunc(slices.Clone(l.opts.Environ), func(kv string) bool {
		return strings.HasPrefix(kv, secretOfTheCollector+"=")
	})
	if endpoint == "" {
		return env
	}
	// A signal's own endpoint or protocol would win over the injected
	// ones and send that signal elsewhere; a proxy would catch loopback.
	noProxy := getenvOf(env)("NO_PROXY")
	if noProxy == "" {
		noProxy = getenvOf(env)("no_proxy")
	}
	env = slices.DeleteFunc(env, func(kv string) bool {
		key, _, _ := strings.Cut(kv, "=")
		switch key {
		case "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "NO_PROXY", "no_proxy":
			return true
		case "TRACEPARENT", "TRACESTATE":
			return tel != nil // the step joins the task-run span instead
		}
		for _, signal := range []string{"LOGS", "TRACES", "METRICS"} {
			if key == "OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT" || key == "OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL" {
				return true
			}
		}
		return false
	})
	noProxy = strings.Trim(noProxy+",127.0.0.1,localhost", ",")
	env = append(env,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL="+l.opts.Protocol,
		"NO_PROXY="+noProxy,
		"no_proxy="+noProxy,
	)
	if tel != nil {
		env = append(env, "TRACEPARENT="+tel.traceparent())
	}
	return env
}

// endpoint is where the collector takes protocol.
func (col *collector) endpoint(protocol string) string {
	if protocol == "grpc" {
		return col.grpcAddr
	}
	return col.httpAddr
}

// exitReason is error.type for a failed step: the signal that ended it,
// or its exit code.
func exitReason(cmd *exec.Cmd) string {
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return signalName(ws.Signal())
	}
	return strconv.Itoa(cmd.ProcessState.ExitCode())
}
