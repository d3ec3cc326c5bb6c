// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"errors"
	"fmt"
	"strings"
)

// template is a parsed template such as
// "https://ml.azure.com/runs/{parent_run_id}?wsid={resource.azureml.workspace}".
// Each part in braces names a dimension or a source; "{{" and "}}" stand for
// literal braces.
type template struct {
	segments []segment
	// literalLen is the length of all literal text, to size the result once.
	literalLen int
}

// segment is literal text or a reference in braces.
type segment struct {
	literal string
	// ref is the name in braces; empty for literal text.
	ref string
	// dim indexes the plan's dimensions once the plan is built: a source
	// named in a template becomes a hidden dimension of its own.
	dim int
}

func parseTemplate(text string) (*template, error) {
	t := &template{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segments = append(t.segments, segment{literal: lit.String()})
			t.literalLen += lit.Len()
			lit.Reset()
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '{' && i+1 < len(text) && text[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(text) && text[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(text[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("template %q: unclosed { at offset %d", text, i)
			}
			ref := strings.TrimSpace(text[i+1 : i+1+end])
			if ref == "" {
				return nil, fmt.Errorf("template %q: empty {} at offset %d", text, i)
			}
			if strings.ContainsRune(ref, '{') {
				return nil, fmt.Errorf("template %q: { inside braces at offset %d; write {{ for a literal brace", text, i)
			}
			flush()
			t.segments = append(t.segments, segment{ref: ref})
			i += end + 1
		case c == '}':
			return nil, fmt.Errorf("template %q: unmatched } at offset %d; write }} for a literal brace", text, i)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return t, nil
}

// isSourceRef reports whether a reference in braces names a source rather
// than a dimension.
func isSourceRef(ref string) bool {
	for _, p := range sourcePrefixes {
		if strings.HasPrefix(ref, p.prefix) {
			return true
		}
	}
	return false
}

// render builds the value from the dimensions' values. It returns "" when
// any referenced value is empty: a link with a hole in it is worse than none.
func (t *template) render(values []string) string {
	n := t.literalLen
	for _, s := range t.segments {
		if s.ref == "" {
			continue
		}
		v := values[s.dim]
		if v == "" {
			return ""
		}
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range t.segments {
		if s.ref == "" {
			b.WriteString(s.literal)
		} else {
			b.WriteString(values[s.dim])
		}
	}
	return b.String()
}

// differs reports whether any value the template names differs between the
// record and its resource, that is whether rendering for the record could
// give another result.
func (t *template) differs(record, resource []string) bool {
	for _, s := range t.segments {
		if s.ref != "" && record[s.dim] != resource[s.dim] {
			return true
		}
	}
	return false
}

// compileTemplates parses every template in dims and checks that each names
// only known dimensions or valid sources, and that no template depends on
// itself, directly or through others.
func compileTemplates(dims map[string]DimensionConfig, known map[string]bool) (map[string]*template, error) {
	var errs []error
	templates := make(map[string]*template)
	for _, name := range sortedKeys(dims) {
		text := dims[name].Template
		if text == "" {
			continue
		}
		t, err := parseTemplate(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("dimensions::%s: %w", name, err))
			continue
		}
		for _, s := range t.segments {
			switch {
			case s.ref == "":
			case isSourceRef(s.ref):
				if _, err := parseSource(s.ref); err != nil {
					errs = append(errs, fmt.Errorf("dimensions::%s: template: %w", name, err))
				}
			case !known[s.ref]:
				errs = append(errs, fmt.Errorf("dimensions::%s: template names unknown dimension %q", name, s.ref))
			}
		}
		templates[name] = t
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cycle := findCycle(templates); cycle != nil {
		return nil, fmt.Errorf("dimensions: templates form a cycle: %s", strings.Join(cycle, " -> "))
	}
	return templates, nil
}

// findCycle returns a cycle of templates that reference each other, or nil.
func findCycle(templates map[string]*template) []string {
	const (
		unvisited = iota
		inProgress
		done
	)
	state := make(map[string]int, len(templates))
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		switch state[name] {
		case done:
			return nil
		case inProgress:
			start := 0
			for i, n := range path {
				if n == name {
					start = i
				}
			}
			return append(append([]string{}, path[start:]...), name)
		}
		t, ok := templates[name]
		if !ok {
			return nil
		}
		state[name] = inProgress
		path = append(path, name)
		for _, s := range t.segments {
			if s.ref != "" && !isSourceRef(s.ref) {
				if c := visit(s.ref); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return nil
	}
	for _, name := range sortedKeys(templates) {
		if c := visit(name); c != nil {
			return c
		}
	}
	return nil
}
