// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// repoRoot is the repository's top folder, two levels above this package.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

// collectorBinary is the distribution, built from this checkout.
func collectorBinary(t testing.TB) string {
	t.Helper()
	bin, err := distribution()
	require.NoError(t, err)
	return bin
}

// configPath names one of the shipped configurations under config/.
func configPath(name string) string {
	return filepath.Join(repoRoot, "config", name)
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collector is the real binary running one of the real configurations.
type collector struct {
	cmd      *exec.Cmd
	output   *syncBuffer
	grpcAddr string
	httpAddr string
	// metricsAddr serves the collector's own telemetry (Prometheus).
	metricsAddr string
	// scheme is how OTLP reaches it: http, or https for the gateway.
	scheme string
	done   chan error
}

// startCollector runs the binary on config with free ports and the given
// extra environment, and waits until it is ready to receive.
func startCollector(t testing.TB, config string, env ...string) *collector {
	t.Helper()
	return startCollectorWith(t, []string{config}, env...)
}

// startCollectorWith is startCollector on several configurations, which
// the collector merges in order (a file, then yaml: overrides). A port
// it chose itself that another process took between freeAddr and the
// collector's bind (other packages' tests run at the same time) is
// chosen again, up to three times.
func startCollectorWith(t testing.TB, configs []string, env ...string) *collector {
	t.Helper()
	for attempt := 1; ; attempt++ {
		c, err := tryCollector(t, configs, env...)
		if err == nil {
			return c
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			t.Fatalf("%v\n%s", err, c.output.String())
		}
		t.Logf("attempt %d: %v; choosing other ports", attempt, err)
	}
}

// errPortTaken is a collector that could not bind a port chosen free.
var errPortTaken = errors.New("a port chosen free was taken before the collector bound it")

func tryCollector(t testing.TB, configs []string, env ...string) (*collector, error) {
	t.Helper()
	c := &collector{
		output:      &syncBuffer{},
		grpcAddr:    freeAddr(t),
		httpAddr:    freeAddr(t),
		metricsAddr: freeAddr(t),
		scheme:      "http",
		done:        make(chan error, 1),
	}
	c.cmd = collectorCommandWith(t, configs, append([]string{
		"RUNCONTEXT_OTLP_GRPC_ENDPOINT=" + c.grpcAddr,
		"RUNCONTEXT_OTLP_HTTP_ENDPOINT=" + c.httpAddr,
		"RUNCONTEXT_METRICS_PORT=" + portOf(t, c.metricsAddr),
	}, env...)...)
	c.cmd.Stdout = c.output
	c.cmd.Stderr = c.output
	require.NoError(t, c.cmd.Start())
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("collector output (last lines):\n%s", lastLines(c.output.String(), 40))
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(c.output.String(), "Everything is ready") {
			// otelcol v0.161.0 registers its SIGTERM handler only after it
			// logs this line; a SIGTERM in between kills the process
			// without a graceful shutdown. The gap is a few statements:
			// give it time before anyone may stop the collector.
			time.Sleep(100 * time.Millisecond)
			return c, nil
		}
		select {
		case err := <-c.done:
			c.done <- err
			out := c.output.String()
			for _, own := range []string{c.grpcAddr, c.httpAddr, c.metricsAddr} {
				if strings.Contains(out, "listen tcp "+own+": bind: address already in use") {
					return c, fmt.Errorf("%w: %s", errPortTaken, own)
				}
			}
			return c, fmt.Errorf("collector exited before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return c, errors.New("collector not ready after 30s")
}

// collectorCommand is the binary on config, not started, with free ports
// for every listener, a temporary data folder, and env on top.
func collectorCommand(t testing.TB, config string, env ...string) *exec.Cmd {
	t.Helper()
	return collectorCommandWith(t, []string{config}, env...)
}

func collectorCommandWith(t testing.TB, configs []string, env ...string) *exec.Cmd {
	t.Helper()
	var args []string
	for _, config := range configs {
		args = append(args, "--config", config)
	}
	cmd := exec.Command(collectorBinary(t), args...)
	cmd.Env = append(os.Environ(),
		"RUNCONTEXT_OTLP_GRPC_ENDPOINT="+freeAddr(t),
		"RUNCONTEXT_OTLP_HTTP_ENDPOINT="+freeAddr(t),
		"RUNCONTEXT_HEALTH_ENDPOINT="+freeAddr(t),
		"RUNCONTEXT_METRICS_PORT="+portOf(t, freeAddr(t)),
		"RUNCONTEXT_METRICS_HOST=127.0.0.1",
		// config/local.yaml's own ingestion endpoint: never the default
		// port, never a folder in the work tree.
		"RUNCONTEXT_INGESTION_ENDPOINT="+freeAddr(t),
		"RUNCONTEXT_DATA_DIR="+t.TempDir(),
	)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// stop sends SIGTERM, the graceful shutdown a pipeline's end brings, and
// waits for the process to exit.
func (c *collector) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-c.done:
		require.NoError(t, err, "collector exit")
	case <-time.After(60 * time.Second):
		t.Fatal("collector did not stop within 60s")
	}
}

// waitForOutput waits until the collector's output contains every string.
func (c *collector) waitForOutput(t testing.TB, timeout time.Duration, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		out := c.output.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(out, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("collector output lacks %q after %s", missing, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func portOf(t testing.TB, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

// runCollectorCommand runs a one-shot subcommand such as validate.
func runCollectorCommand(t testing.TB, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(collectorBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustWriteFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// lastLines keeps a failure's log readable.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
