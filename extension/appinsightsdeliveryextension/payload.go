// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

// A track request's body is JSON lines, one envelope a line, gzip'd when
// its Content-Encoding says so. Ingestion's per-item errors index those
// lines.

// envelopeLines returns the body's envelopes, one line each.
func envelopeLines(encoding string, body []byte) ([][]byte, error) {
	payload := body
	switch encoding {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("gunzip track request: %w", err)
		}
		if payload, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("gunzip track request: %w", err)
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(payload, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// encodeLines is the body of a track request sending lines.
func encodeLines(encoding string, lines [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if encoding == "gzip" {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	for _, line := range lines {
		_, _ = w.Write(line)
		_, _ = w.Write([]byte{'\n'})
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
