// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package spool // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"

// This file holds the file format, and nothing that touches a disk: a
// spool file is one JSON header line (target URL, request headers,
// creation time, item count, the body's length and CRC-32C), then the
// request body exactly as the exporter sent it.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"time"
)

const (
	// MaxHeader bounds the header line a file starts with; Put refuses a
	// request whose header would be longer.
	MaxHeader = 64 << 10
	version   = 2
	// BlockSize is what a file takes on disk at least, and the unit it
	// grows by on the usual filesystems (ext4, xfs, overlayfs, NTFS):
	// max_bytes counts files rounded up to it, so that it bounds the disk,
	// not the sum of file lengths.
	BlockSize = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrHeaderTooLarge is returned by Put for headers that would not fit
	// the header line.
	ErrHeaderTooLarge = fmt.Errorf("request headers over %d bytes", MaxHeader)
	// ErrCorrupt is returned by Read for a file that does not hold what was
	// written: a header that cannot be read, a length or a checksum that
	// does not match. The file is in quarantine by then.
	ErrCorrupt = errors.New("spool file is corrupt")
)

// Request is what a batch's file holds.
type Request struct {
	URL    string
	Header http.Header
	Body   []byte
}

// Encoding is the body's Content-Encoding: "" or "gzip".
func (r Request) Encoding() string { return r.Header.Get("Content-Encoding") }

type header struct {
	Version int         `json:"v"`
	URL     string      `json:"url"`
	Header  http.Header `json:"header,omitempty"`
	Created time.Time   `json:"created"`
	Items   int         `json:"items"`
	CRC     uint32      `json:"crc32c"`
	Length  int         `json:"length"`
}

// encodeHeader is the header line of a file that holds body.
func encodeHeader(url string, hdr http.Header, created time.Time, items int, body []byte) ([]byte, error) {
	h, err := json.Marshal(header{
		Version: version, URL: url, Header: hdr, Created: created, Items: items,
		CRC: crc32.Checksum(body, castagnoli), Length: len(body),
	})
	if err != nil {
		return nil, err
	}
	if len(h)+1 > MaxHeader {
		return nil, ErrHeaderTooLarge
	}
	return append(h, '\n'), nil
}

// readHeader reads the header line; it returns the header and the line's
// length.
func readHeader(r *bufio.Reader) (header, int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return header{}, 0, fmt.Errorf("read header: %w", err)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		return header{}, 0, fmt.Errorf("parse header: %w", err)
	}
	if h.Version != version || h.URL == "" || h.Items < 0 || h.Length < 0 {
		return header{}, 0, fmt.Errorf("unknown header %.200q", line)
	}
	return h, len(line), nil
}

// decodeFile checks a whole file and returns the request it holds. Every
// error it returns means the file is corrupt.
func decodeFile(data []byte) (header, Request, error) {
	h, n, err := readHeader(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return header{}, Request{}, err
	}
	if len(data)-n != h.Length {
		return header{}, Request{}, fmt.Errorf("body of %d bytes, header says %d", len(data)-n, h.Length)
	}
	if crc32.Checksum(data[n:], castagnoli) != h.CRC {
		return header{}, Request{}, errors.New("body does not match its checksum")
	}
	return h, Request{URL: h.URL, Header: h.Header, Body: data[n:]}, nil
}

// onDisk is what a file of n bytes takes on disk.
func onDisk(n int) int64 {
	return (int64(n) + BlockSize - 1) / BlockSize * BlockSize
}
