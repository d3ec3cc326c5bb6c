// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// post sends body to url, as an OTLP/HTTP or track request, and returns
// the answer's status. headers are name, value pairs; a pair with an
// empty value is left out.
func post(client *http.Client, url, contentType string, body io.Reader, headers ...string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// dialOTLP connects to an OTLP/gRPC receiver; the connection sends
// messages of up to 64 MiB, so that the receiver's bound is what refuses a
// large one. It closes when the test ends.
func dialOTLP(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds), grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// exportLogs sends one OTLP/gRPC logs request, with an authorization
// header unless it is empty, and returns the answer's status code.
func exportLogs(conn *grpc.ClientConn, req plogotlp.ExportRequest, authorization string) codes.Code {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if authorization != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", authorization)
	}
	_, err := plogotlp.NewGRPCClient(conn).Export(ctx, req)
	return status.Code(err)
}
