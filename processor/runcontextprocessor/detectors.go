// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"sort"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/otelcicd"
)

// detectors maps a detector's configuration name to its constructor. Adding
// a platform means one package under internal/ and one entry here.
var detectors = map[string]func() detector.Detector{
	otelcicd.Name: otelcicd.New,
}

// detectorNames lists the known detectors, for error messages.
func knownDetectorNames() []string {
	names := make([]string, 0, len(detectors))
	for name := range detectors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
