// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headingSlug is the anchor GitHub makes of a Markdown heading: lower
// case, punctuation other than - and _ dropped, spaces as -.
func headingSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Every link to a Markdown file's heading, in any file of the repository
// (docs, READMEs, manifests' comments), names a heading that exists: a
// renamed section would otherwise leave readers at the top of the page.
func TestLinksToMarkdownHeadingsResolve(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err)
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := map[string]bool{}
		raw, err := os.ReadFile(path)
		if err == nil {
			inFence := false
			for _, line := range strings.Split(string(raw), "\n") {
				if strings.HasPrefix(line, "```") {
					inFence = !inFence
				}
				if !inFence && strings.HasPrefix(line, "#") {
					a[headingSlug(strings.TrimLeft(line, "#"))] = true
				}
			}
		}
		anchors[path] = a
		return a
	}
	link := regexp.MustCompile(`([A-Za-z0-9_./-]+\.md)#([A-Za-z0-9_-]+)`)
	checked := 0
	for _, file := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch filepath.Ext(file) {
		case ".md", ".yaml", ".yml", ".go", ".py", ".sh", ".txt", "":
		default:
			continue
		}
		if strings.Contains(file, "testdata/") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			continue
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			target := resolveDoc(root, file, m[1])
			if target == "" {
				continue // a file name in prose, not a path here
			}
			checked++
			assert.True(t, anchorsOf(target)[m[2]], "%s links to %s#%s, which has no such heading", file, m[1], m[2])
		}
	}
	assert.Greater(t, checked, 20, "the links were found")
}

// resolveDoc finds a linked Markdown file: relative to the linking file,
// or to the repository's root (as comments write docs/deployment.md).
func resolveDoc(root, from, link string) string {
	for _, candidate := range []string{
		filepath.Join(root, filepath.Dir(from), link),
		filepath.Join(root, link),
	} {
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	return ""
}
