// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lint runs actionlint, GitHub's workflow linter, over files, and returns
// its errors, one line each.
func lint(t *testing.T, files ...string) []string {
	t.Helper()
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	require.NoError(t, err)
	errs, err := linter.LintFiles(files, nil)
	require.NoError(t, err)
	var lines []string
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	return lines
}

// Every workflow, the recipes' and the project's own, passes actionlint.
func TestWorkflowsPassActionlint(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../.github/workflows/*.yml", "../examples/github-actions/*.yml"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	for _, want := range []string{"ci.yml", "release.yml", "train.yml"} {
		assert.Contains(t, strings.Join(files, " "), "/"+want)
	}
	assert.Empty(t, lint(t, files...))
}

// The setup action passes actionlint as a workflow uses it: actionlint
// reads a local action's metadata (action.yml) and checks every input a
// step passes against it. A project of its own holds the action and a
// workflow that uses it with every input it has.
func TestSetupActionPassesActionlint(t *testing.T) {
	project := t.TempDir()
	action, err := os.ReadFile(filepath.Join("..", "actions", "setup", "action.yml"))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(project, "actions", "setup"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(project, "actions", "setup", "action.yml"), action, 0o600))
	workflows := filepath.Join(project, ".github", "workflows")
	require.NoError(t, os.MkdirAll(workflows, 0o755))
	// actionlint takes a folder for a project when it has .github/workflows and .git.
	require.NoError(t, os.WriteFile(filepath.Join(project, ".git"), []byte("gitdir: none\n"), 0o600))
	use := func(name, with string) string {
		file := filepath.Join(workflows, name)
		require.NoError(t, os.WriteFile(file, []byte(`on: push
jobs:
  setup:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./actions/setup
`+with+`
      - run: runcontext-launch -- echo ok
`), 0o600))
		return file
	}
	assert.Empty(t, lint(t, use("setup.yml", "        with:\n          version: 0.1.0\n          base-url: https://example.com/releases")))
	// The check can fail: an input the action does not have.
	errs := lint(t, use("misspelt.yml", "        with:\n          versoin: 0.1.0"))
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], `input "versoin" is not defined in action "Set up otelcol-runcontext"`)
}
