// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// chartDir is the gateway's own chart.
var chartDir = filepath.Join("helm", "otelcol-runcontext")

// withImage is what every install must set: the image is required.
func withImage(values map[string]any) map[string]any {
	out := map[string]any{"image": map[string]any{"repository": placeholderImage}}
	for k, v := range values {
		out[k] = v
	}
	return out
}

// helmTemplate renders the chart as `helm template <release> -n <namespace>`
// does, through the Helm SDK: the manifests in file order, NOTES left out.
func helmTemplate(t *testing.T, release, namespace string, values map[string]any) ([]byte, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	require.NoError(t, err)
	top, err := util.ToRenderValues(chrt, values, common.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		if strings.HasSuffix(name, ".yaml") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var stream strings.Builder
	for _, name := range names {
		stream.WriteString("---\n# Source: " + name + "\n" + files[name] + "\n")
	}
	return []byte(stream.String()), nil
}

func mustHelmTemplate(t *testing.T, release, namespace string, values map[string]any) []byte {
	t.Helper()
	out, err := helmTemplate(t, release, namespace, values)
	require.NoError(t, err)
	return out
}

// documents are a stream's objects by kind and name, as plain data, for
// comparing two renderings object by object.
func documents(t *testing.T, stream []byte) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range strings.Split(string(stream), "\n---") {
		var o map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(doc), &o))
		if o == nil {
			continue
		}
		meta, _ := o["metadata"].(map[string]any)
		key := o["kind"].(string) + "/" + meta["name"].(string)
		require.NotContains(t, out, key, "rendered twice")
		out[key] = o
	}
	return out
}

// The chart passes helm lint, strict (warnings fail too), and refuses to
// render without the image, naming the value to set.
func TestHelmChartLints(t *testing.T) {
	lint := action.NewLint()
	lint.Strict = true
	lint.Namespace = "observability"
	result := lint.Run([]string{chartDir}, withImage(nil))
	for _, m := range result.Messages {
		t.Log(m)
	}
	assert.Empty(t, result.Errors)
	assert.Equal(t, 1, result.TotalChartsLinted)

	_, err := helmTemplate(t, "otelcol-runcontext", "observability", nil)
	require.Error(t, err, "no default image: a bare name would resolve to docker.io/library")
	assert.Contains(t, err.Error(), "image.repository: set it to your registry's copy of make image")

	_, err = helmTemplate(t, "otelcol-runcontext", "observability", withImage(map[string]any{"certificate": map[string]any{"enabled": true}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate.issuerRef.name")
}

// One source of truth: installed as otelcol-runcontext into observability,
// the chart renders exactly the objects kubectl kustomize renders of
// deploy/kubernetes, apart from the Namespace, which Helm's
// --create-namespace makes, and the ConfigMap's hash suffix: the chart
// computes it as the kustomize library does (api v0.21), the kustomize in
// kubectl 1.32 another way; either changes with the content. With
// podMonitor and certificate on, exactly the objects of an overlay with
// both components.
func TestHelmChartRendersTheManifests(t *testing.T) {
	for _, tc := range []struct {
		name      string
		values    map[string]any
		kustomize []byte
	}{
		{"defaults", nil, kustomize(t, "kubernetes")},
		{"monitoring and cert-manager", map[string]any{
			"podMonitor":  map[string]any{"enabled": true},
			"certificate": map[string]any{"enabled": true, "issuerRef": map[string]any{"name": "REPLACE-with-your-issuer"}},
		}, withComponent(t, "kubernetes-monitoring", "kubernetes-certmanager")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chart := mustHelmTemplate(t, "otelcol-runcontext", "observability", withImage(tc.values))
			decodeStrict(t, chart)
			hashed := regexp.MustCompile(`(otelcol-runcontext-config-)[a-z0-9]{10}\b`)
			require.Len(t, hashed.FindAll(chart, -1), 2, "the ConfigMap and the volume that mounts it")
			want := documents(t, hashed.ReplaceAll(tc.kustomize, []byte("${1}HASH")))
			delete(want, "Namespace/observability")
			got := documents(t, hashed.ReplaceAll(chart, []byte("${1}HASH")))
			assert.ElementsMatch(t, keys(want), keys(got))
			for key, o := range want {
				assert.Equal(t, o, got[key], key)
			}
		})
	}
}

func keys(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Values other than the defaults render objects the API takes, that still
// refer to one another: another release and namespace, a fixed replica
// count without the autoscaler, a configuration of the user's, keyless
// ingestion, Secrets and a storage class of their own.
func TestHelmChartWithOtherValues(t *testing.T) {
	config := map[string]any{"receivers": map[string]any{"otlp": map[string]any{"protocols": map[string]any{"http": map[string]any{"endpoint": "0.0.0.0:4318"}}}}}
	values := withImage(map[string]any{
		"autoscaling":    map[string]any{"enabled": false},
		"replicaCount":   3,
		"config":         config,
		"entraId":        map[string]any{"credential": "workload_identity", "clientId": "11111111-2222-3333-4444-555555555555"},
		"serviceAccount": map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": "11111111-2222-3333-4444-555555555555"}},
		"podLabels":      map[string]any{"azure.workload.identity/use": "true"},
		"secrets":        map[string]any{"appInsights": "ai", "tls": "gateway-tls", "token": "senders"},
		"spool":          map[string]any{"size": "5Gi", "storageClassName": "managed-csi"},
		"networkPolicy":  map[string]any{"metricsFrom": []any{}},
	})
	values["image"].(map[string]any)["tag"] = "0.2.0"
	objs := decodeStrict(t, mustHelmTemplate(t, "ml", "telemetry", values))
	defaults := decodeStrict(t, mustHelmTemplate(t, "ml", "telemetry", withImage(nil)))

	require.Len(t, objs.statefulSets, 1)
	sts := objs.statefulSets[0]
	pod := sts.Spec.Template.Spec
	c := pod.Containers[0]
	assert.Equal(t, "ml-otelcol-runcontext", sts.Name)
	assert.Equal(t, "telemetry", sts.Namespace)
	assert.Equal(t, placeholderImage+":0.2.0", c.Image)
	require.NotNil(t, sts.Spec.Replicas, "no autoscaler: the count is the StatefulSet's")
	assert.Equal(t, int32(3), *sts.Spec.Replicas)
	assert.Empty(t, objs.autoscalers)
	assert.Equal(t, "managed-csi", *sts.Spec.VolumeClaimTemplates[0].Spec.StorageClassName)
	size := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]
	assert.Equal(t, "5Gi", size.String())
	assert.Equal(t, "true", sts.Spec.Template.Labels["azure.workload.identity/use"])
	credential, _ := envOf(c, "RUNCONTEXT_ENTRA_CREDENTIAL")
	assert.Equal(t, "workload_identity", credential.Value)
	clientID, _ := envOf(c, "RUNCONTEXT_ENTRA_CLIENT_ID")
	assert.Equal(t, "11111111-2222-3333-4444-555555555555", clientID.Value)
	conn, _ := envOf(c, "APPLICATIONINSIGHTS_CONNECTION_STRING")
	assert.Equal(t, "ai", conn.ValueFrom.SecretKeyRef.Name)

	// Every reference resolves to a rendered object.
	require.Len(t, objs.accounts, 1)
	assert.Equal(t, objs.accounts[0].Name, pod.ServiceAccountName)
	assert.Equal(t, "11111111-2222-3333-4444-555555555555", objs.accounts[0].Annotations["azure.workload.identity/client-id"])
	for _, svc := range objs.services {
		assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)), svc.Name)
	}
	secrets := map[string]bool{}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			require.Len(t, objs.configMaps, 1)
			assert.Equal(t, objs.configMaps[0].Name, v.ConfigMap.Name)
		case v.Secret != nil:
			secrets[v.Secret.SecretName] = true
		}
	}
	assert.Equal(t, map[string]bool{"gateway-tls": true, "senders": true}, secrets)

	// The user's configuration is what the pods run, and a new
	// configuration is a new ConfigMap name: the pods roll.
	var got map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(objs.configMaps[0].Data["gateway.yaml"]), &got))
	assert.Equal(t, config, got)
	assert.NotEqual(t, defaults.configMaps[0].Name, objs.configMaps[0].Name)

	// Metrics from nowhere: only OTLP is let in.
	require.Len(t, objs.policies, 1)
	require.Len(t, objs.policies[0].Spec.Ingress, 1)
}
