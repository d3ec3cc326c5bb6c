// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package trackprotocol

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	wrongKey = "00000000-0000-0000-0000-000000000000"
	rightKey = "01234567-0000-89ab-cdef-000000000000"
)

func TestInstrumentationKey(t *testing.T) {
	assert.Equal(t, wrongKey, InstrumentationKey([]byte(`{"name":"x","iKey":"`+wrongKey+`"}`)))
	assert.Empty(t, InstrumentationKey([]byte(`{"name":"x"}`)))
	assert.Empty(t, InstrumentationKey([]byte(`not json`)))
	assert.Empty(t, InstrumentationKey([]byte(`["iKey"]`)))
	assert.Empty(t, InstrumentationKey([]byte(`{"ikey":"`+wrongKey+`"}`)), "the field is iKey, exactly")
	got, err := Rekey([]byte(`{"ikey":"`+wrongKey+`","iKey":"`+wrongKey+`"}`), rightKey)
	require.NoError(t, err)
	assert.Equal(t, rightKey, InstrumentationKey(got), "what Rekey writes is what InstrumentationKey reads")
}

func TestRekey(t *testing.T) {
	item := []byte(`{"name":"Microsoft.ApplicationInsights.00000000000000000000000000000000.Message","time":"2026-01-01T00:00:00Z","iKey":"` + wrongKey + `","tags":{"ai.cloud.role":"a<b>"},"data":{"baseType":"MessageData","baseData":{"ver":2,"message":"hello & <bye>"}}}`)
	got, err := Rekey(item, rightKey)
	require.NoError(t, err)
	assert.Equal(t, rightKey, InstrumentationKey(got))

	var before, after map[string]any
	require.NoError(t, json.Unmarshal(item, &before))
	require.NoError(t, json.Unmarshal(got, &after))
	assert.Equal(t, "Microsoft.ApplicationInsights.01234567000089abcdef000000000000.Message", after["name"])
	for _, k := range []string{"time", "tags", "data"} {
		assert.Equal(t, before[k], after[k], k)
	}
	assert.Contains(t, string(got), `hello & <bye>`, "HTML characters stay as they were sent")
	assert.NotContains(t, string(got), "\n", "an item stays one line")

	// A name without a key, as the contrib exporter writes it, stays so.
	got, err = Rekey([]byte(`{"name":"Microsoft.ApplicationInsights.Event","iKey":"`+wrongKey+`"}`), rightKey)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"Microsoft.ApplicationInsights.Event","iKey":"`+rightKey+`"}`, string(got))
	// A name of another form is kept.
	got, err = Rekey([]byte(`{"name":"custom","iKey":"`+wrongKey+`"}`), rightKey)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"custom","iKey":"`+rightKey+`"}`, string(got))

	for _, bad := range []string{`not json`, `null`, `[1]`, `"s"`} {
		_, err := Rekey([]byte(bad), rightKey)
		assert.Error(t, err, bad)
	}
}
