// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package detectortest runs table-driven tests of detectors.
package detectortest // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/internal/detector/detectortest"

import (
	"reflect"
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
			t.Parallel()
			got := d.Detect(detector.Guard(func(k string) string { return c.Env[k] }))
			// The whole context: every dimension, its value and its
			// source references in order; nil (platform absent) is not
			// an empty context.
			if !reflect.DeepEqual(got, c.Want) {
				t.Errorf("got  %#v\nwant %#v", got, c.Want)
			}
		})
	}
}
