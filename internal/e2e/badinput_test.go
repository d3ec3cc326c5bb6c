// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/ingestion"
)

// campaign is one collector on config/local.yaml under bad input: OTLP
// on both receivers, and its local ingestion endpoint. It remembers which
// records the collector acknowledged, which must all arrive.
type campaign struct {
	c         *collector
	ingestURL string
	envelopes string

	// client waits long enough for the largest inputs.
	client *http.Client

	mu           sync.Mutex
	acknowledged []string
	rows         []string
}

// outcome is what one bad input got.
type outcome struct {
	answer string
	// want tells whether the answer is the one the collector must give.
	want bool
}

func (cp *campaign) try(t *testing.T, input string, send func() outcome) {
	t.Helper()
	start := time.Now()
	o := send()
	took := time.Since(start).Round(time.Millisecond)
	require.Nil(t, processExit(cp.c), "the collector exited after %s", input)
	peak := peakRSS(t, cp.c.cmd.Process.Pid)
	cp.rows = append(cp.rows, fmt.Sprintf("| %s | %s | %s | %d MiB |", input, o.answer, took, peak>>20))
	assert.True(t, o.want, "%s: answered %s", input, o.answer)
}

// processExit is the collector's exit, if it has exited.
func processExit(c *collector) error {
	select {
	case err := <-c.done:
		c.done <- err
		if err == nil {
			return fmt.Errorf("exited with status 0")
		}
		return err
	default:
		return nil
	}
}

func statusOutcome(status int, err error, want ...int) outcome {
	if err != nil {
		return outcome{answer: "error: " + err.Error()}
	}
	ok := false
	for _, w := range want {
		ok = ok || status == w
	}
	return outcome{answer: fmt.Sprintf("%d %s", status, http.StatusText(status)), want: ok}
}

// records are n log records with ids prefix-0 on, and attrs attributes
// each beside the id.
func records(prefix string, n, attrs int) (plog.Logs, []string) {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
		lr.Body().SetStr("record " + ids[i])
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.Attributes().EnsureCapacity(attrs + 1)
		lr.Attributes().PutStr(recordIDKey, ids[i])
		for a := range attrs {
			lr.Attributes().PutStr(fmt.Sprintf("attr.%d", a), "v")
		}
	}
	return ld, ids
}

// sendLogs posts records over OTLP/HTTP protobuf and notes them as
// acknowledged when the collector answers 200.
func (cp *campaign) sendLogs(ld plog.Logs, ids []string) (int, error) {
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return 0, err
	}
	return cp.postAcknowledged(body, ids...)
}

// postAcknowledged posts an OTLP/HTTP protobuf request holding the records
// ids, which are acknowledged when the collector answers 200.
func (cp *campaign) postAcknowledged(body []byte, ids ...string) (int, error) {
	status, err := post(cp.client, "http://"+cp.c.httpAddr+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
	if err == nil && status == http.StatusOK {
		cp.mu.Lock()
		cp.acknowledged = append(cp.acknowledged, ids...)
		cp.mu.Unlock()
	}
	return status, err
}

// deeplyNested is an OTLP logs request, in protobuf, whose one record's
// body is an array holding an array, depth times over. It is written
// outside in, from the sizes of the levels, in time linear in depth.
func deeplyNested(depth int) []byte {
	bottom := protowire.AppendTag(nil, 1, protowire.BytesType) // AnyValue.string_value
	bottom = protowire.AppendString(bottom, "bottom")
	// anyLen[i] is the size of the AnyValue i levels above the bottom,
	// arrLen[i] of the ArrayValue inside it.
	anyLen, arrLen := make([]int, depth+1), make([]int, depth+1)
	anyLen[0] = len(bottom)
	for i := 1; i <= depth; i++ {
		arrLen[i] = 1 + protowire.SizeVarint(uint64(anyLen[i-1])) + anyLen[i-1]
		anyLen[i] = 1 + protowire.SizeVarint(uint64(arrLen[i])) + arrLen[i]
	}
	body := make([]byte, 0, anyLen[depth])
	for i := depth; i >= 1; i-- {
		body = protowire.AppendTag(body, 5, protowire.BytesType) // AnyValue.array_value
		body = protowire.AppendVarint(body, uint64(arrLen[i]))
		body = protowire.AppendTag(body, 1, protowire.BytesType) // ArrayValue.values
		body = protowire.AppendVarint(body, uint64(anyLen[i-1]))
	}
	body = append(body, bottom...)
	return logsRequest(protowire.AppendBytes(protowire.AppendTag(nil, 5, protowire.BytesType), body)) // LogRecord.body
}

// wideRecord is an OTLP logs request, in protobuf, with one record that
// carries its id and attrs more attributes: written directly, since
// pdata's Map checks every key it puts against the others.
func wideRecord(id string, attrs int) []byte {
	attr := func(rec []byte, key, value string) []byte {
		anyValue := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), value) // AnyValue.string_value
		kv := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), key)         // KeyValue.key
		kv = protowire.AppendBytes(protowire.AppendTag(kv, 2, protowire.BytesType), anyValue)       // KeyValue.value
		return protowire.AppendBytes(protowire.AppendTag(rec, 6, protowire.BytesType), kv)          // LogRecord.attributes
	}
	rec := protowire.AppendFixed64(protowire.AppendTag(nil, 1, protowire.Fixed64Type), uint64(time.Now().UnixNano())) // time_unix_nano
	rec = protowire.AppendVarint(protowire.AppendTag(rec, 2, protowire.VarintType), uint64(plog.SeverityNumberInfo))  // severity_number
	rec = protowire.AppendBytes(protowire.AppendTag(rec, 5, protowire.BytesType),
		protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "record "+id)) // body
	rec = attr(rec, recordIDKey, id)
	for a := range attrs {
		rec = attr(rec, fmt.Sprintf("attr.%d", a), "v")
	}
	return logsRequest(rec)
}

// logsRequest wraps one encoded LogRecord in a whole request.
func logsRequest(record []byte) []byte {
	wrap := func(field protowire.Number, msg []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), msg)
	}
	scope := wrap(2, record)   // ScopeLogs.log_records
	resource := wrap(2, scope) // ResourceLogs.scope_logs
	return wrap(1, resource)   // ExportLogsServiceRequest.resource_logs
}

// deeplyNestedJSON is the same request in OTLP/JSON.
func deeplyNestedJSON(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":`)
	for range depth {
		b.WriteString(`{"arrayValue":{"values":[`)
	}
	b.WriteString(`{"stringValue":"bottom"}`)
	for range depth {
		b.WriteString(`]}}`)
	}
	b.WriteString(`}]}]}]}`)
	return b.Bytes()
}

// gzipOf compresses n bytes of fill.
func gzipOf(n int64, fill byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := bytes.Repeat([]byte{fill}, 1<<20)
	for written := int64(0); written < n; written += int64(len(chunk)) {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	return buf.Bytes()
}

// gzipLines compresses n lines of line.
func gzipLines(n int, line string) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := []byte(strings.Repeat(line+"\n", 1<<16))
	for written := 0; written < n; written += 1 << 16 {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	return buf.Bytes()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Bad input through the binary, on every listener config/local.yaml opens.
// Each input gets its answer, and after all of them the collector is
// still up, took a well-formed request, and delivered every record it
// acknowledged. `make bad-input` prints the table of answers, durations
// and peak memory (docs/security.md).
func TestBadInputCampaign(t *testing.T) {
	c, envelopes := localCollector(t)
	cp := &campaign{c: c, envelopes: envelopes, client: &http.Client{Timeout: 2 * time.Minute}}
	// local.yaml's ingestion endpoint: the address localCollector chose.
	for _, kv := range c.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "RUNCONTEXT_INGESTION_ENDPOINT="); ok {
			cp.ingestURL = "http://" + v + "/v2.1/track"
		}
	}
	require.NotEmpty(t, cp.ingestURL)
	logsURL := "http://" + c.httpAddr + "/v1/logs"

	// First, on a fresh collector, so that its growth shows: an 8 KiB gzip
	// body of 4 Mi one-byte lines, which once took seconds of CPU and
	// 384 MiB before its 413. The endpoint stops at its item limit.
	lines := gzipLines(4<<20, "x")
	cp.try(t, fmt.Sprintf("ingestion: gzip of 4 Mi one-byte lines (%d KiB)", len(lines)>>10), func() outcome {
		before := peakRSS(t, cp.c.cmd.Process.Pid)
		s, err := post(cp.client, cp.ingestURL, "application/x-json-stream", bytes.NewReader(lines), "Content-Encoding", "gzip")
		o := statusOutcome(s, err, http.StatusRequestEntityTooLarge)
		growth := peakRSS(t, cp.c.cmd.Process.Pid) - before
		o.answer += fmt.Sprintf(", +%d MiB", growth>>20)
		o.want = o.want && growth <= 64<<20
		return o
	})

	// OTLP/HTTP.
	cp.try(t, "OTLP/HTTP: 64 KiB of random bytes as protobuf", func() outcome {
		s, err := post(cp.client, logsURL, "application/x-protobuf", bytes.NewReader(randomBytes(64<<10)))
		return statusOutcome(s, err, http.StatusBadRequest)
	})
	cp.try(t, "OTLP/HTTP: truncated protobuf", func() outcome {
		ld, _ := records("truncated", 100, 0)
		body, _ := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		s, err := post(cp.client, logsURL, "application/x-protobuf", bytes.NewReader(body[:len(body)/2]))
		return statusOutcome(s, err, http.StatusBadRequest)
	})
	cp.try(t, "OTLP/HTTP: malformed JSON", func() outcome {
		s, err := post(cp.client, logsURL, "application/json", strings.NewReader(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":`))
		return statusOutcome(s, err, http.StatusBadRequest)
	})
	cp.try(t, "OTLP/HTTP: text/plain", func() outcome {
		s, err := post(cp.client, logsURL, "text/plain", strings.NewReader("hello"))
		return statusOutcome(s, err, http.StatusUnsupportedMediaType)
	})
	cp.try(t, "OTLP/HTTP: 100 000 attributes on one record (2 MB)", func() outcome {
		s, err := cp.postAcknowledged(wideRecord("wide", 100_000), "wide")
		return statusOutcome(s, err, http.StatusOK)
	})
	nested := deeplyNested(100_000)
	cp.try(t, "OTLP/HTTP: body nested 100 000 deep, protobuf (1 MB)", func() outcome {
		s, err := post(cp.client, logsURL, "application/x-protobuf", bytes.NewReader(nested))
		return statusOutcome(s, err, http.StatusOK, http.StatusBadRequest)
	})
	cp.try(t, "OTLP/HTTP: body nested 100 000 deep, JSON (3.3 MB)", func() outcome {
		s, err := post(cp.client, logsURL, "application/json", bytes.NewReader(deeplyNestedJSON(100_000)))
		return statusOutcome(s, err, http.StatusOK, http.StatusBadRequest)
	})
	cp.try(t, "OTLP/HTTP: 25 MiB body (receiver's bound 20 MiB)", func() outcome {
		s, err := post(cp.client, logsURL, "application/x-protobuf", bytes.NewReader(make([]byte, 25<<20)))
		return statusOutcome(s, err, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
	otlpBomb := gzipOf(1<<30, 0) // built before the clock starts
	cp.try(t, "OTLP/HTTP: gzip bomb, 1 GiB of zeros in 1 MB", func() outcome {
		s, err := post(cp.client, logsURL, "application/x-protobuf", bytes.NewReader(otlpBomb), "Content-Encoding", "gzip")
		return statusOutcome(s, err, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
	cp.try(t, "OTLP/HTTP: flood, 8 senders × 3 s of 100-record requests", func() outcome {
		var sent, ok, refused atomic.Int64
		var wg sync.WaitGroup
		until := time.Now().Add(3 * time.Second)
		for w := range 8 {
			wg.Go(func() {
				for i := 0; time.Now().Before(until); i++ {
					ld, ids := records(fmt.Sprintf("flood-%d-%d", w, i), 100, 3)
					s, err := cp.sendLogs(ld, ids)
					sent.Add(1)
					if err == nil && s == http.StatusOK {
						ok.Add(1)
					} else {
						refused.Add(1)
					}
				}
			})
		}
		wg.Wait()
		return outcome{answer: fmt.Sprintf("%d requests: %d × 200, %d refused", sent.Load(), ok.Load(), refused.Load()), want: ok.Load() > 0}
	})

	// OTLP/gRPC.
	conn := dialOTLP(t, c.grpcAddr, insecure.NewCredentials())
	export := func(req plogotlp.ExportRequest) outcome {
		return outcome{answer: "gRPC " + exportLogs(conn, req, "").String()}
	}
	huge := plogotlp.NewExportRequest()
	require.NoError(t, huge.UnmarshalProto(wideRecord("huge-grpc", 250_000)))
	cp.try(t, "OTLP/gRPC: 5 MB message (receiver's bound 4 MiB)", func() outcome {
		o := export(huge)
		o.want = o.answer == "gRPC ResourceExhausted"
		return o
	})
	cp.try(t, "OTLP/gRPC: body nested 100 000 deep", func() outcome {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(nested); err != nil {
			return outcome{answer: "could not build: " + err.Error()}
		}
		o := export(req)
		o.want = o.answer == "gRPC OK" || o.answer == "gRPC InvalidArgument"
		return o
	})

	// The local ingestion endpoint.
	ingestionBomb := gzipOf(1<<30, '\n')
	cp.try(t, "ingestion: gzip bomb, 1 GiB of newlines in 1 MB", func() outcome {
		s, err := post(cp.client, cp.ingestURL, "application/x-json-stream", bytes.NewReader(ingestionBomb), "Content-Encoding", "gzip")
		return statusOutcome(s, err, http.StatusRequestEntityTooLarge, http.StatusBadRequest)
	})
	cp.try(t, "ingestion: 80 MiB body", func() outcome {
		s, err := post(cp.client, cp.ingestURL, "application/x-json-stream", bytes.NewReader(bytes.Repeat([]byte("x"), 80<<20)))
		return statusOutcome(s, err, http.StatusRequestEntityTooLarge, http.StatusBadRequest)
	})
	cp.try(t, "ingestion: cross-site text/plain POST", func() outcome {
		s, err := post(cp.client, cp.ingestURL, "text/plain", strings.NewReader(`{"name":"x"}`))
		return statusOutcome(s, err, http.StatusUnsupportedMediaType)
	})
	cp.try(t, "ingestion: 100 slow senders holding connections, then one real request", func() outcome {
		host := strings.TrimSuffix(strings.TrimPrefix(cp.ingestURL, "http://"), "/v2.1/track")
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for range 100 {
			c, err := net.Dial("tcp", host)
			if err != nil {
				break
			}
			// Half a request line, then nothing: a slowloris.
			_, _ = io.WriteString(c, "POST /v2.1/track HTTP/1.1\r\nHost: x\r\n")
			conns = append(conns, c)
		}
		// A new connection, as a new exporter's: the exporter's own are
		// open already, and stay served.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		start := time.Now()
		s, err := post(cp.client, cp.ingestURL, "application/x-json-stream", strings.NewReader("\n"))
		o := statusOutcome(s, err, http.StatusOK, http.StatusBadRequest)
		o.answer += fmt.Sprintf(" after %s", time.Since(start).Round(time.Millisecond))
		return o
	})

	// Still up, and still working: a well-formed request arrives.
	cp.try(t, "afterwards: 10 well-formed records", func() outcome {
		ld, ids := records("after", 10, 0)
		s, err := cp.sendLogs(ld, ids)
		return statusOutcome(s, err, http.StatusOK)
	})
	c.stop(t)

	envs, err := ingestion.ReadEnvelopes(envelopes)
	require.NoError(t, err)
	arrived := map[string]int{}
	for _, e := range envs {
		if id := e.Data.BaseData.Properties[recordIDKey]; id != "" {
			arrived[id]++
		}
	}
	missing := 0
	for _, id := range cp.acknowledged {
		if arrived[id] == 0 {
			missing++
		}
	}
	cp.rows = append(cp.rows, fmt.Sprintf("| acknowledged records | %d, %d arrived, %d missing | | |", len(cp.acknowledged), len(cp.acknowledged)-missing, missing))
	t.Logf("\n| input | answer | took | peak RSS so far |\n|---|---|---|---|\n%s", strings.Join(cp.rows, "\n"))
	assert.Zero(t, missing, "acknowledged records that never arrived")
}
