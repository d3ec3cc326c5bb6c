// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"path"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The OpenCensus handler's names for the code location, and the semantic
// convention attributes they are read from, current names first.
var codeLocationAttributes = []struct {
	name string
	from []string
}{
	{"fileName", []string{"code.file.path", "code.filepath"}},
	{"lineNumber", []string{"code.line.number", "code.lineno"}},
	{"module", []string{"code.namespace"}},
}

// setCodeLocation adds fileName, lineNumber and module from the record's
// code.* attributes. module falls back to the file's base name without its
// extension, which is what Python's logging calls the module.
func setCodeLocation(attrs pcommon.Map, overwrite bool) {
	for _, loc := range codeLocationAttributes {
		if _, ok := attrs.Get(loc.name); ok && !overwrite {
			continue
		}
		v := firstAttribute(attrs, loc.from)
		if v == "" && loc.name == "module" {
			file := firstAttribute(attrs, codeLocationAttributes[0].from)
			if file == "" {
				continue
			}
			base := path.Base(strings.ReplaceAll(file, `\`, "/"))
			v = strings.TrimSuffix(base, path.Ext(base))
		}
		if v != "" {
			putStrIfChanged(attrs, loc.name, v)
		}
	}
}

func firstAttribute(attrs pcommon.Map, keys []string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if s := v.AsString(); s != "" {
				return s
			}
		}
	}
	return ""
}
