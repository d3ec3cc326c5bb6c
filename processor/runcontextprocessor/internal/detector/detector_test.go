// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package detector

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGuardNeverReadsSecrets(t *testing.T) {
	var read []string
	getenv := Guard(func(name string) string {
		read = append(read, name)
		return "value-of-" + name
	})
	for _, name := range []string{
		"AZUREML_RUN_TOKEN", "GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "SYSTEM_ACCESSTOKEN",
		"CI_JOB_TOKEN", "CI_JOB_JWT", "MY_SECRET", "DB_PASSWORD", "APPINSIGHTS_KEY", "api_key",
	} {
		assert.Empty(t, getenv(name), name)
	}
	assert.Empty(t, read, "a secret's name reached the environment")
	assert.Equal(t, "value-of-GITHUB_RUN_ID", getenv("GITHUB_RUN_ID"))
}

func TestJoinURL(t *testing.T) {
	assert.Equal(t, "https://github.com/org/repo", JoinURL("https://github.com/", "/org/repo"))
	assert.Empty(t, JoinURL("", "org/repo"))
	assert.Empty(t, JoinURL("https://github.com", ""))
}
