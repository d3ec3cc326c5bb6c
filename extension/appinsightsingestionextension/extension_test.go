// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsingestionextension

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
)

// An endpoint whose every connection slot is taken (here by senders that
// never send) still shuts down within its context: the Accept waiting for
// a slot ends when the listener closes.
func TestShutdownWithEveryConnectionTaken(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := free.Addr().String()
	require.NoError(t, free.Close())
	e := newIngestionExtension(&Config{Endpoint: addr, InstrumentationKey: defaultInstrumentationKey, Directory: t.TempDir()}, zap.NewNop())
	require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
	for range maxConnections + 1 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
	}
	time.Sleep(300 * time.Millisecond) // the server takes the first maxConnections
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_ = e.Shutdown(ctx)
	// ReadHeaderTimeout (10 s) would free a slot at last: well before it.
	require.Less(t, time.Since(start), 5*time.Second, "shutdown waited for a connection slot")
}
