// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Command panicstep is a Go step that prints, then panics: what a Go
// step's crash looks like on its stderr.
package main

import "fmt"

func main() {
	fmt.Println("loading 1200 rows")
	var weights []float64
	fmt.Println(weights[3])
}
