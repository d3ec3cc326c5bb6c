// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package deploy holds the deployment manifests' tests: a module of its
// own, so that the Kubernetes API types it decodes into (k8s.io/api v0.37)
// stay out of the distribution's module graph, where contrib pins
// k8s.io/apimachinery v0.35.
package deploy
