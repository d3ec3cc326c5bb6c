// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package runcontextprocessor // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor"

import (
	"sort"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/azuredevops"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/azureml"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/githubactions"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/gitlab"
	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/otelcicd"
)

// detectors maps a detector's configuration name to its constructor. Adding
// a platform means one package under internal/ and one entry here.
var detectors = map[string]func() detector.Detector{
	otelcicd.Name:      otelcicd.New,
	azureml.Name:       azureml.New,
	githubactions.Name: githubactions.New,
	azuredevops.Name:   azuredevops.New,
	gitlab.Name:        gitlab.New,
}

// detected is the run context one detector found.
type detected struct {
	name    string
	kind    detector.Kind
	context detector.Context
}

// detect runs the configured detectors, or with no detectors option every
// known one, in order. An environment detector whose platform is absent
// finds nothing. getenv is os.Getenv outside tests (NewFactory); it is
// wrapped so that it never reads a secret: see detector.Guard.
func detect(cfg *Config, getenv func(string) string) []detected {
	names := knownDetectorNames()
	if cfg.Detectors != nil {
		names = *cfg.Detectors
	}
	getenv = detector.Guard(getenv)
	var found []detected
	for _, name := range names {
		newDetector, ok := detectors[name]
		if !ok {
			continue // rejected by Validate
		}
		d := newDetector()
		if ctx := d.Detect(getenv); ctx != nil {
			found = append(found, detected{name: name, kind: d.Kind(), context: ctx})
		}
	}
	return found
}

// environmentDetectors names the environment detectors that found their
// platform, for the start-up log.
func environmentDetectors(found []detected) []string {
	var names []string
	for _, d := range found {
		if d.kind == detector.Environment {
			names = append(names, d.name)
		}
	}
	return names
}

// knownDetectorNames lists the known detectors in a stable order.
func knownDetectorNames() []string {
	names := make([]string, 0, len(detectors))
	for name := range detectors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// EnvironmentContext is the run context the environment detectors find
// in getenv, each dimension from the first detector that has it: what the
// processor with its default configuration attaches to telemetry that
// carries no run context of its own. runcontext-launch names a step's
// task-run span with it, so that the span and the step's telemetry agree.
func EnvironmentContext(getenv func(string) string) map[string]string {
	values := map[string]string{}
	for _, d := range detect(&Config{}, getenv) {
		if d.kind != detector.Environment {
			continue
		}
		for name, src := range d.context {
			if _, ok := values[name]; !ok && src.Value != "" {
				values[name] = src.Value
			}
		}
	}
	return values
}
