// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package ingestiontest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func message(ikey, text string) string {
	return `{"name":"Microsoft.ApplicationInsights.Message","time":"2026-11-27T10:00:00Z","iKey":"` + ikey +
		`","data":{"baseType":"MessageData","baseData":{"message":"` + text + `"}}}`
}

// The real endpoint sits behind the faults: it checks each envelope, and
// FailItems fails only valid ones.
func TestServerChecksAndStores(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.FailItems(func(i int, _ []byte) int {
		if i == 2 {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	body := strings.Join([]string{message(InstrumentationKey, "a"), message("another-key", "b"), message(InstrumentationKey, "c")}, "\n")
	resp, err := http.Post(s.URL+"v2.1/track", "application/x-json-stream", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	envs := s.Envelopes(t)
	require.Len(t, envs, 1)
	assert.Equal(t, "a", envs[0].Data.BaseData.Message)
	assert.Contains(t, s.ConnectionString(), "IngestionEndpoint="+s.URL)
}
