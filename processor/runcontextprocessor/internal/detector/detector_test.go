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
		"AZURE_CLIENT_CREDENTIAL", "AZURE_DEVOPS_PAT", "APPLICATIONINSIGHTS_CONNECTION_STRING", "X_APIKEY",
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

func TestIsSecret(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		// What detectors read: never refused.
		"AZUREML_RUN_ID": false, "GITHUB_RUN_ID": false, "CI_PROJECT_PATH": false, "BUILD_BUILDNUMBER": false,
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": false, "PATH": false, "GITHUB_WORKSPACE": false,
		// Credentials, as environment variables and as OTLP headers.
		"AZUREML_RUN_TOKEN": true, "SYSTEM_ACCESSTOKEN": true, "AZURE_DEVOPS_EXT_PAT": true, "pat": true,
		"APPLICATIONINSIGHTS_CONNECTION_STRING": true, "AZURE_CLIENT_CERTIFICATE_PASSWORD": true,
		"authorization": true, "cookie": true, "x-api-key": true, "proxy-authorization": true,
	} {
		assert.Equal(t, want, IsSecret(name), name)
	}
}
