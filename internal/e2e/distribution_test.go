// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// A connection string for configurations that need one; nothing listens at
// its endpoint, which the collector only finds out when it sends.
const unreachableConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"

func TestComponentsListsTheDistribution(t *testing.T) {
	out, err := runCollectorCommand(t, nil, "components")
	require.NoError(t, err, out)
	for _, want := range []string{"name: otlp", "name: runcontext", "name: azure_monitor", "name: debug", "name: batch", "name: memory_limiter", "name: health_check", "name: file_storage"} {
		assert.Contains(t, out, want)
	}
}

func TestShippedConfigsValidate(t *testing.T) {
	for _, name := range []string{"local.yaml", "azure.yaml", "gateway.yaml"} {
		t.Run(name, func(t *testing.T) {
			out, err := runCollectorCommand(t, []string{"APPLICATIONINSIGHTS_CONNECTION_STRING=" + unreachableConnectionString},
				"validate", "--config", configPath(name))
			require.NoError(t, err, out)
		})
	}
}

func TestShippedConfigsStart(t *testing.T) {
	for _, name := range []string{"local.yaml", "azure.yaml", "gateway.yaml"} {
		t.Run(name, func(t *testing.T) {
			// config/gateway.yaml needs its TLS and token files.
			env := append(newGatewaySecrets(t).env(), "APPLICATIONINSIGHTS_CONNECTION_STRING="+unreachableConnectionString)
			c := startCollector(t, configPath(name), env...)
			c.stop(t)
		})
	}
}

// validate rejects a bad runcontext section with a message that names the
// problem.
func TestInvalidProcessorConfigIsExplained(t *testing.T) {
	tests := []struct {
		name    string
		section string
		want    []string
	}{
		{"unknown key", "overwrit: true", []string{`"runcontext"`, "invalid keys: overwrit"}},
		{"drop without required", "on_missing: drop", []string{`on_missing: "drop" needs at least one dimension in required`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustWriteFile(t, "bad.yaml", `
receivers:
  otlp:
    protocols:
      http:
processors:
  runcontext:
    `+tt.section+`
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [runcontext]
      exporters: [debug]
`)
			out, err := runCollectorCommand(t, nil, "validate", "--config", cfg)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, out, want)
			}
		})
	}
}

// The local configuration takes OTLP logs on gRPC and HTTP and passes them
// through runcontext to the debug exporter.
func TestLocalConfigAcceptsOTLPLogs(t *testing.T) {
	c := startCollector(t, configPath("local.yaml"))

	req := plogotlp.NewExportRequestFromLogs(oneLog("over http"))
	body, err := req.MarshalProto()
	require.NoError(t, err)
	resp, err := http.Post("http://"+c.httpAddr+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	conn, err := grpc.NewClient(c.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(oneLog("over grpc")))
	require.NoError(t, err)

	// The debug exporter reports the size of each batch it received.
	require.Eventually(t, func() bool { return debugLogRecords(c.output.String()) == 2 }, 10*time.Second, 50*time.Millisecond)
	c.stop(t)
}

var debugLogRecordsPattern = regexp.MustCompile(`"log records": (\d+)`)

// debugLogRecords adds up the log records the debug exporter reported.
func debugLogRecords(output string) int {
	total := 0
	for _, m := range debugLogRecordsPattern.FindAllStringSubmatch(output, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

func oneLog(body string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("cicd.pipeline.run.id", "run-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr(body)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	return ld
}

// Without any override the README's run command listens where the README
// says: OTLP on 127.0.0.1:4317 and :4318, the local endpoint on :8787.
func TestLocalConfigDefaultAddresses(t *testing.T) {
	out, err := runCollectorCommand(t, nil, "print-config", "--config", configPath("local.yaml"))
	require.NoError(t, err, out)
	for _, want := range []string{"endpoint: 127.0.0.1:4317", "endpoint: 127.0.0.1:4318", "endpoint: 127.0.0.1:8787"} {
		assert.Contains(t, out, want)
	}
}
