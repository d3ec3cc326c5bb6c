// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package trackprotocol // import "github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// envelopeNamePrefix begins an envelope's name: the contrib exporter names
// an item Microsoft.ApplicationInsights.<type>, ApplicationInsights-Go's
// own client Microsoft.ApplicationInsights.<key without dashes>.<type>.
const envelopeNamePrefix = "Microsoft.ApplicationInsights."

// InstrumentationKey is the instrumentation key an item is sent with, its
// envelope's iKey; empty when the item has none or is not an envelope.
func InstrumentationKey(item []byte) string {
	// The field exactly as Rekey writes it: a struct field would match
	// "ikey" too, without case.
	var e map[string]json.RawMessage
	var key string
	if json.Unmarshal(item, &e) != nil || json.Unmarshal(e["iKey"], &key) != nil {
		return ""
	}
	return key
}

// Rekey is item sent with instrumentation key key instead: its envelope's
// iKey, and the key its name carries if it carries one. Everything else
// is kept as it was.
func Rekey(item []byte, key string) ([]byte, error) {
	var e map[string]json.RawMessage
	if err := json.Unmarshal(item, &e); err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errors.New("the item is not an envelope")
	}
	var err error
	if e["iKey"], err = json.Marshal(key); err != nil {
		return nil, err
	}
	var name string
	if raw, ok := e["name"]; ok && json.Unmarshal(raw, &name) == nil && strings.HasPrefix(name, envelopeNamePrefix) {
		if _, typ, keyed := strings.Cut(strings.TrimPrefix(name, envelopeNamePrefix), "."); keyed {
			if e["name"], err = json.Marshal(envelopeNamePrefix + strings.ReplaceAll(key, "-", "") + "." + typ); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
