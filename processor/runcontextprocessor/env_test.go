// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor

// Tests must not depend on the machine they run on: a CI job's own
// variables (GITHUB_RUN_ID, BUILD_BUILDID, ...) would feed the environment
// detectors. Tests that need an environment pass one to newPlan, or set
// osGetenv themselves.
func init() { osGetenv = emptyEnvironment }

func emptyEnvironment(string) string { return "" }

// environment returns a getenv over a fixed set of variables.
func environment(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}
