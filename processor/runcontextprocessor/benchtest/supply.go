// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package benchtest // import "github.com/otelcol-runcontext/otelcol-runcontext/processor/runcontextprocessor/benchtest"

import (
	"context"
	"testing"
)

// Supply hands a benchmark fresh copies of one batch, unmarshalled from
// OTLP protobuf as the receiver makes them (so attribute slices have the
// capacity they have in a real collector). It makes them outside the timer,
// in groups, so that stopping the timer costs little per operation.
type Supply[T any] struct {
	payload   []byte
	unmarshal func([]byte) (T, error)
	ready     []T
}

// supplyGroup is how many batches are made per timer stop.
const supplyGroup = 64

// NewSupply marshals batch once with marshal.
func NewSupply[T any](b *testing.B, batch T, marshal func(T) ([]byte, error), unmarshal func([]byte) (T, error)) *Supply[T] {
	b.Helper()
	payload, err := marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	return &Supply[T]{payload: payload, unmarshal: unmarshal}
}

// Next returns a batch nobody else holds.
func (s *Supply[T]) Next(b *testing.B) T {
	if len(s.ready) == 0 {
		b.StopTimer()
		for range supplyGroup {
			batch, err := s.unmarshal(s.payload)
			if err != nil {
				b.Fatal(err)
			}
			s.ready = append(s.ready, batch)
		}
		b.StartTimer()
	}
	batch := s.ready[len(s.ready)-1]
	s.ready = s.ready[:len(s.ready)-1]
	return batch
}

// ReportPerRecord adds ns/record to the benchmark's results. B/op and
// allocs/op divide by Records the same way; scripts/bench-compare.sh does.
func ReportPerRecord(b *testing.B, records int) {
	b.Helper()
	n := float64(b.N) * float64(records)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
}

// Run times consume on one fresh batch per operation and reports the cost
// per record: the loop every benchmark of the batches shares.
func Run[T any](b *testing.B, supply *Supply[T], consume func(context.Context, T) error) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := consume(ctx, supply.Next(b)); err != nil {
			b.Fatal(err)
		}
	}
	ReportPerRecord(b, Records)
}
