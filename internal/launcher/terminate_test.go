// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package launcher

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The collector is asked to stop as it is started (detach, then
// terminate), with SIGTERM: it gets to shut down gracefully (deliver what
// its exporter holds) rather than be killed. The test binary stands in for
// the collector. (Windows' Ctrl-Break needs a console, which Wine does not
// give a test binary: GenerateConsoleCtrlEvent fails there, and the
// launcher falls back to unaskedStopGrace and a kill.)
func TestTheCollectorIsAskedToStopGracefully(t *testing.T) {
	if os.Getenv("RUNCONTEXT_STOP_HELPER") == "1" {
		stopHelper()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTheCollectorIsAskedToStopGracefully$")
	cmd.Env = append(os.Environ(), "RUNCONTEXT_STOP_HELPER=1")
	detach(cmd)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan())
	require.Equal(t, "ready", lines.Text())
	require.NoError(t, terminate(cmd.Process))
	var said []string
	for lines.Scan() {
		said = append(said, lines.Text())
	}
	require.NoError(t, cmd.Wait())
	assert.Contains(t, strings.Join(said, "\n"), "stopped gracefully")
}

func stopHelper() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	fmt.Println("ready")
	select {
	case sig := <-stop:
		fmt.Println("stopped gracefully on", sig)
		os.Exit(0)
	case <-time.After(30 * time.Second):
		fmt.Println("no stop asked")
		os.Exit(3)
	}
}
