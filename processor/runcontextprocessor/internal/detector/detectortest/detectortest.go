// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package detectortest runs table-driven tests of environment detectors.
package detectortest // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"

import (
	"testing"

	"github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector"
)

// Case is one environment and the run context a detector must find in it.
type Case struct {
	Name string
	Env  map[string]string
	Want detector.Context
}

// Run checks d against every case, reading the environment through
// detector.Guard as the processor does, so that a detector relying on a
// secret variable fails here.
func Run(t *testing.T, d detector.Detector, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := d.Detect(detector.Guard(func(k string) string { return c.Env[k] }))
			if len(got) != len(c.Want) || (got == nil) != (c.Want == nil) {
				t.Fatalf("got %v, want %v", got, c.Want)
			}
			for dim, want := range c.Want {
				if got[dim].Value != want.Value || len(got[dim].From) != len(want.From) {
					t.Errorf("%s: got %+v, want %+v", dim, got[dim], want)
				}
			}
		})
	}
}
