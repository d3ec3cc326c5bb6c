// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// objects are the documents of a YAML stream, decoded strictly into the
// Kubernetes API type their kind names: an unknown or misspelt field
// fails, as the API server would refuse it.
type objects struct {
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	accounts     []*corev1.ServiceAccount
	budgets      []*policyv1.PodDisruptionBudget
	autoscalers  []*autoscalingv2.HorizontalPodAutoscaler
	jobs         []*batchv1.Job
	namespaces   []*corev1.Namespace
	policies     []*networkingv1.NetworkPolicy
	configMaps   []*corev1.ConfigMap
	// others are the kinds no Kubernetes API type describes (custom
	// resources), by kind.
	others map[string][]map[string]any
}

func decodeStrict(t *testing.T, stream []byte) *objects {
	t.Helper()
	objs := &objects{others: map[string][]map[string]any{}}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(stream), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
		switch meta.APIVersion + "/" + meta.Kind {
		case "apps/v1/StatefulSet":
			objs.statefulSets = append(objs.statefulSets, strictly[appsv1.StatefulSet](t, doc))
		case "v1/Service":
			objs.services = append(objs.services, strictly[corev1.Service](t, doc))
		case "v1/ServiceAccount":
			objs.accounts = append(objs.accounts, strictly[corev1.ServiceAccount](t, doc))
		case "policy/v1/PodDisruptionBudget":
			objs.budgets = append(objs.budgets, strictly[policyv1.PodDisruptionBudget](t, doc))
		case "autoscaling/v2/HorizontalPodAutoscaler":
			objs.autoscalers = append(objs.autoscalers, strictly[autoscalingv2.HorizontalPodAutoscaler](t, doc))
		case "networking.k8s.io/v1/NetworkPolicy":
			objs.policies = append(objs.policies, strictly[networkingv1.NetworkPolicy](t, doc))
		case "v1/ConfigMap":
			objs.configMaps = append(objs.configMaps, strictly[corev1.ConfigMap](t, doc))
		case "v1/Namespace":
			objs.namespaces = append(objs.namespaces, strictly[corev1.Namespace](t, doc))
		case "batch/v1/Job":
			objs.jobs = append(objs.jobs, strictly[batchv1.Job](t, doc))
		default:
			require.NotContains(t, []string{"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"}, meta.APIVersion,
				"a built-in kind the test does not decode: %s", meta.Kind)
			var o map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(doc), &o))
			objs.others[meta.Kind] = append(objs.others[meta.Kind], o)
		}
	}
	return objs
}

// placeholderImage is the image each recipe names until its user sets
// their registry's: kustomize's newName, the chart's image.repository, the
// Operator CR's image. A bare name would resolve to docker.io/library,
// where no such image is.
const placeholderImage = "REGISTRY.example/otelcol-runcontext"

// strictly decodes one document into T, failing on any field T lacks.
func strictly[T any](t *testing.T, doc string) *T {
	t.Helper()
	v := new(T)
	require.NoError(t, yaml.UnmarshalStrict([]byte(doc), v), "%T:\n%s", v, doc)
	return v
}

// kustomize renders a kustomization with the kubectl of the machine.
func kustomize(t *testing.T, dir string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("kubectl", "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "kubectl kustomize %s: %s", dir, stderr.String())
	return out
}

// gatewayConfig is config/gateway.yaml, the configuration the image ships
// and the StatefulSet runs.
type gatewayConfig struct {
	Extensions struct {
		Delivery struct {
			ShutdownTimeout string `json:"shutdown_timeout"`
			Spool           struct {
				Directory string `json:"directory"`
				MaxBytes  int64  `json:"max_bytes"`
			} `json:"spool"`
		} `json:"appinsights_delivery"`
		Token struct {
			Filename string `json:"filename"`
		} `json:"bearertokenauth/senders"`
		Health struct {
			Endpoint string `json:"endpoint"`
		} `json:"health_check"`
	} `json:"extensions"`
	Receivers struct {
		OTLP struct {
			Protocols struct {
				GRPC struct {
					Endpoint string `json:"endpoint"`
					TLS      struct {
						CertFile string `json:"cert_file"`
						KeyFile  string `json:"key_file"`
					} `json:"tls"`
				} `json:"grpc"`
				HTTP struct {
					Endpoint string `json:"endpoint"`
				} `json:"http"`
			} `json:"protocols"`
		} `json:"otlp"`
	} `json:"receivers"`
	Exporters map[string]struct {
		ShutdownTimeout string `json:"shutdown_timeout"`
	} `json:"exporters"`
	Service struct {
		Telemetry struct {
			Metrics struct {
				Readers []struct {
					Pull struct {
						Exporter struct {
							Prometheus struct {
								Host string `json:"host"`
								Port string `json:"port"`
							} `json:"prometheus"`
						} `json:"exporter"`
					} `json:"pull"`
				} `json:"readers"`
			} `json:"metrics"`
		} `json:"telemetry"`
	} `json:"service"`
}

// envDefault is the default of a ${env:NAME:-default} reference, or the
// value itself.
func envDefault(v string) string {
	if m := regexp.MustCompile(`^\$\{env:[A-Z_]+:-(.*)\}(.*)$`).FindStringSubmatch(v); m != nil {
		return m[1] + m[2]
	}
	return v
}

func port(t *testing.T, endpoint string) int32 {
	t.Helper()
	i := strings.LastIndex(endpoint, ":")
	require.Positive(t, i, endpoint)
	p, err := strconv.Atoi(endpoint[i+1:])
	require.NoError(t, err, endpoint)
	return int32(p)
}

func readGateway(t *testing.T) gatewayConfig {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "config", "gateway.yaml"))
	require.NoError(t, err)
	var cfg gatewayConfig
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	return cfg
}

func duration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	require.NoError(t, err, s)
	return d
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func envOf(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

// mountedAt is the volume mounted at path or above it.
func mountedAt(c corev1.Container, path string) (corev1.VolumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/") {
			return m, true
		}
	}
	return corev1.VolumeMount{}, false
}

// The gateway's manifests render, decode strictly into the API types, and
// agree with config/gateway.yaml: ports, probes, the spool's volume, the
// TLS and token files, and a grace period long enough for the shutdown.
func TestKubernetesGateway(t *testing.T) {
	objs := decodeStrict(t, kustomize(t, "kubernetes"))
	require.Len(t, objs.statefulSets, 1)
	sts := objs.statefulSets[0]
	require.Len(t, sts.Spec.Template.Spec.Containers, 1)
	c := sts.Spec.Template.Spec.Containers[0]
	pod := sts.Spec.Template.Spec
	gw := readGateway(t)

	// kubectl apply -k on a fresh cluster: the namespace every object and
	// the documented Secrets go into is created with them, under Pod
	// Security "restricted", which the pod must meet.
	t.Run("creates its namespace", func(t *testing.T) {
		require.Len(t, objs.namespaces, 1)
		ns := objs.namespaces[0]
		assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"])
		assert.Equal(t, ns.Name, sts.Namespace)
		for _, svc := range objs.services {
			assert.Equal(t, ns.Name, svc.Namespace, svc.Name)
		}
		docs, err := os.ReadFile(filepath.Join("..", "docs", "deployment.md"))
		require.NoError(t, err)
		for _, line := range regexp.MustCompile(`(?m)^kubectl .*create secret.*$`).FindAllString(string(docs), -1) {
			assert.Contains(t, line, "-n "+ns.Name, "the documented Secret goes into the namespace")
		}
		require.NotNil(t, pod.SecurityContext.SeccompProfile, "restricted asks for a seccomp profile")
	})

	// What docs/deployment.md tells operators to alert on can be scraped:
	// on the pod's address and a named port, and only from the monitoring
	// namespace; OTLP only from the namespaces that send.
	t.Run("metrics can be scraped, behind a NetworkPolicy", func(t *testing.T) {
		readers := gw.Service.Telemetry.Metrics.Readers
		require.Len(t, readers, 1)
		prom := readers[0].Pull.Exporter.Prometheus
		host, ok := envOf(c, "RUNCONTEXT_METRICS_HOST")
		require.True(t, ok, "the metrics listen on 127.0.0.1 unless told")
		// Every IPv4 address: the pod's, which Prometheus scrapes, and
		// loopback, where kubectl port-forward connects (the drain
		// procedure reads the spool's size there).
		assert.Equal(t, "0.0.0.0", host.Value)
		metricsPort, ok := envOf(c, "RUNCONTEXT_METRICS_PORT")
		require.True(t, ok)
		assert.Contains(t, prom.Port, "RUNCONTEXT_METRICS_PORT")
		assert.Equal(t, metricsPort.Value, strconv.Itoa(int(containerPort(c, "metrics"))))

		require.Len(t, objs.policies, 1)
		np := objs.policies[0]
		assert.True(t, labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(sts.Spec.Template.Labels)), "the policy selects the gateway's pods")
		assert.NotEmpty(t, np.Spec.PodSelector.MatchLabels, "not every pod of the namespace")
		assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)
		allowed := map[string]bool{}
		for _, rule := range np.Spec.Ingress {
			require.NotEmpty(t, rule.From, "ingress from chosen namespaces, not from anywhere")
			for _, p := range rule.Ports {
				require.NotZero(t, containerPort(c, p.Port.String()), "port %s is the container's", p.Port)
				allowed[p.Port.String()] = true
			}
		}
		assert.Equal(t, map[string]bool{"otlp-grpc": true, "otlp-http": true, "metrics": true}, allowed)
		var https bool
		for _, rule := range np.Spec.Egress {
			for _, p := range rule.Ports {
				https = https || p.Port.IntValue() == 443
			}
		}
		assert.True(t, https, "ingestion and Entra ID over HTTPS")
	})

	// config/gateway.yaml, from a ConfigMap whose name is a hash of its
	// content: a change of configuration needs no new image and rolls
	// the pods.
	t.Run("runs config/gateway.yaml from a ConfigMap", func(t *testing.T) {
		assert.Equal(t, placeholderImage+":0.1.0", c.Image, "the image is the registry's, never docker.io/library's")
		require.Len(t, c.Args, 2)
		assert.Equal(t, "--config", c.Args[0])
		mount, ok := mountedAt(c, c.Args[1])
		require.True(t, ok, "nothing mounted at %s", c.Args[1])
		var configMap string
		for _, v := range pod.Volumes {
			if v.Name == mount.Name && v.ConfigMap != nil {
				configMap = v.ConfigMap.Name
			}
		}
		require.Len(t, objs.configMaps, 1)
		cm := objs.configMaps[0]
		assert.Equal(t, cm.Name, configMap, "%s comes from the ConfigMap", c.Args[1])
		assert.Regexp(t, `^otelcol-runcontext-config-[a-z0-9]{10}$`, cm.Name, "a name that changes with the content")
		gateway, err := os.ReadFile(filepath.Join("..", "config", "gateway.yaml"))
		require.NoError(t, err)
		assert.Equal(t, string(gateway), cm.Data[filepath.Base(c.Args[1])],
			"deploy/kubernetes/gateway.yaml is config/gateway.yaml: run make generate")
		chartCopy, err := os.ReadFile(filepath.Join(chartDir, "files", "gateway.yaml"))
		require.NoError(t, err)
		assert.Equal(t, string(gateway), string(chartCopy), "the chart's files/gateway.yaml is config/gateway.yaml: run make generate")
	})

	t.Run("ports", func(t *testing.T) {
		grpc := port(t, envDefault(gw.Receivers.OTLP.Protocols.GRPC.Endpoint))
		http := port(t, envDefault(gw.Receivers.OTLP.Protocols.HTTP.Endpoint))
		health := port(t, envDefault(gw.Extensions.Health.Endpoint))
		assert.Equal(t, grpc, containerPort(c, "otlp-grpc"))
		assert.Equal(t, http, containerPort(c, "otlp-http"))
		assert.Equal(t, health, containerPort(c, "health"))
		for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
			require.NotNil(t, probe)
			require.NotNil(t, probe.HTTPGet)
			assert.Equal(t, "health", probe.HTTPGet.Port.String(), "probes ask health_check")
		}
		require.Len(t, objs.services, 2)
		var headless bool
		for _, svc := range objs.services {
			headless = headless || (svc.Spec.ClusterIP == corev1.ClusterIPNone && svc.Name == sts.Spec.ServiceName)
			var ports []int32
			for _, p := range svc.Spec.Ports {
				ports = append(ports, p.Port)
				assert.Contains(t, []string{"otlp-grpc", "otlp-http"}, p.TargetPort.String())
			}
			assert.ElementsMatch(t, []int32{grpc, http}, ports, svc.Name)
			assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(sts.Spec.Template.Labels)), "%s selects the gateway's pods", svc.Name)
		}
		assert.True(t, headless, "the StatefulSet's serviceName is a headless Service")
	})

	t.Run("the spool is on the replica's own volume", func(t *testing.T) {
		dataDir, ok := envOf(c, "RUNCONTEXT_DATA_DIR")
		require.True(t, ok)
		spool := strings.ReplaceAll(gw.Extensions.Delivery.Spool.Directory, "${env:RUNCONTEXT_DATA_DIR:-/var/lib/otelcol-runcontext}", dataDir.Value)
		mount, ok := mountedAt(c, spool)
		require.True(t, ok, "nothing mounted at the spool %s", spool)
		var claim *corev1.PersistentVolumeClaim
		for i := range sts.Spec.VolumeClaimTemplates {
			if sts.Spec.VolumeClaimTemplates[i].Name == mount.Name {
				claim = &sts.Spec.VolumeClaimTemplates[i]
			}
		}
		require.NotNil(t, claim, "the spool's volume is a volume claim template")
		size := claim.Spec.Resources.Requests[corev1.ResourceStorage]
		assert.Greater(t, size.Value(), gw.Extensions.Delivery.Spool.MaxBytes, "the volume holds more than max_bytes")
	})

	t.Run("TLS and token files come from Secrets", func(t *testing.T) {
		for _, file := range []string{
			envDefault(gw.Receivers.OTLP.Protocols.GRPC.TLS.CertFile),
			envDefault(gw.Receivers.OTLP.Protocols.GRPC.TLS.KeyFile),
			envDefault(gw.Extensions.Token.Filename),
		} {
			mount, ok := mountedAt(c, file)
			require.True(t, ok, "nothing mounted at %s", file)
			var secret *corev1.SecretVolumeSource
			for _, v := range pod.Volumes {
				if v.Name == mount.Name {
					secret = v.Secret
				}
			}
			require.NotNil(t, secret, "%s comes from a Secret", file)
			assert.True(t, mount.ReadOnly)
		}
		conn, ok := envOf(c, "APPLICATIONINSIGHTS_CONNECTION_STRING")
		require.True(t, ok)
		require.NotNil(t, conn.ValueFrom)
		assert.NotNil(t, conn.ValueFrom.SecretKeyRef, "the connection string comes from a Secret")
	})

	t.Run("grace period covers the shutdown", func(t *testing.T) {
		exporter := time.Duration(0)
		for _, e := range gw.Exporters {
			exporter = max(exporter, duration(t, e.ShutdownTimeout))
		}
		spool := duration(t, gw.Extensions.Delivery.ShutdownTimeout)
		require.NotNil(t, pod.TerminationGracePeriodSeconds)
		grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		assert.Greater(t, grace, exporter+spool, "terminationGracePeriodSeconds above the exporter's and the spool's shutdown_timeout")
	})

	t.Run("pod security and resources", func(t *testing.T) {
		require.NotNil(t, pod.SecurityContext)
		assert.True(t, *pod.SecurityContext.RunAsNonRoot)
		assert.Equal(t, int64(10001), *pod.SecurityContext.RunAsUser, "the image's user")
		require.NotNil(t, c.SecurityContext)
		assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
		assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
		limit := c.Resources.Limits[corev1.ResourceMemory]
		require.False(t, limit.IsZero(), "a memory limit")
		memLimit, ok := envOf(c, "GOMEMLIMIT")
		require.True(t, ok)
		goLimit := resource.MustParse(strings.TrimSuffix(memLimit.Value, "B"))
		assert.Less(t, goLimit.Value(), limit.Value(), "GOMEMLIMIT below the container's limit")
	})

	t.Run("disruption budget and autoscaler aim at the gateway", func(t *testing.T) {
		require.Len(t, objs.budgets, 1)
		// Replicas spread over nodes and zones, counting the gateway's own
		// pods.
		var keys []string
		for _, c := range sts.Spec.Template.Spec.TopologySpreadConstraints {
			keys = append(keys, c.TopologyKey)
			spread, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
			require.NoError(t, err)
			assert.False(t, spread.Empty(), "%s counts every pod", c.TopologyKey)
			assert.True(t, spread.Matches(labels.Set(sts.Spec.Template.Labels)), "%s counts the gateway's pods", c.TopologyKey)
			assert.Equal(t, int32(1), c.MaxSkew)
		}
		assert.ElementsMatch(t, []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, keys)
		selector, err := metav1.LabelSelectorAsSelector(objs.budgets[0].Spec.Selector)
		require.NoError(t, err)
		assert.False(t, selector.Empty())
		assert.True(t, selector.Matches(labels.Set(sts.Spec.Template.Labels)))
		require.Len(t, objs.autoscalers, 1)
		ref := objs.autoscalers[0].Spec.ScaleTargetRef
		assert.Equal(t, "StatefulSet", ref.Kind)
		assert.Equal(t, sts.Name, ref.Name)
		require.NotNil(t, objs.autoscalers[0].Spec.MinReplicas)
		assert.GreaterOrEqual(t, *objs.autoscalers[0].Spec.MinReplicas, int32(2), "a budget of one unavailable needs two replicas")
		assert.Equal(t, pod.ServiceAccountName, objs.accounts[0].Name)
	})

	// No spool is stranded: the autoscaler never removes a replica (its
	// retained volume would wait for that ordinal to come back), and the
	// StatefulSet leaves the count to the autoscaler.
	t.Run("scaling strands no spool", func(t *testing.T) {
		hpa := objs.autoscalers[0]
		require.NotNil(t, hpa.Spec.Behavior)
		require.NotNil(t, hpa.Spec.Behavior.ScaleDown)
		require.NotNil(t, hpa.Spec.Behavior.ScaleDown.SelectPolicy)
		assert.Equal(t, autoscalingv2.DisabledPolicySelect, *hpa.Spec.Behavior.ScaleDown.SelectPolicy)
		assert.Nil(t, sts.Spec.Replicas, "a replica count next to the autoscaler resets it on every apply")
		require.NotNil(t, sts.Spec.PersistentVolumeClaimRetentionPolicy)
		assert.Equal(t, appsv1.RetainPersistentVolumeClaimRetentionPolicyType, sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled)
	})
}

// Unknown fields fail the decoding: the test would catch a misspelt key.
func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	var sts appsv1.StatefulSet
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  replica: 2\n"), &sts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown field "replica"`)
}

// redecode decodes v, a part of a document already read loosely, strictly
// into into: a field into lacks fails.
func redecode(t *testing.T, v, into any) {
	t.Helper()
	raw, err := yaml.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(raw, into), "%s", raw)
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &v))
	return v
}

// The Operator's sidecar runs config/azure.yaml as it is: health_check
// (from which the Operator derives the native sidecar's startupProbe, so
// the step starts once the collector listens), the spool on a volume of
// the pod, entra_id and exception events. The Job's pod asks for it,
// sends where it listens, and names its run from the downward API.
func TestOperatorSidecarForJobs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("operator", "sidecar.yaml"))
	require.NoError(t, err)
	// Removed in Operator 0.140: native sidecars are automatic on
	// Kubernetes 1.29 and later, and an Operator refuses the gate.
	assert.NotContains(t, string(raw), "sidecarcontainers.native")
	objs := decodeStrict(t, raw)
	require.Len(t, objs.jobs, 1)
	require.Len(t, objs.others["OpenTelemetryCollector"], 1)
	cr := objs.others["OpenTelemetryCollector"][0]
	spec := cr["spec"].(map[string]any)
	assert.Equal(t, "sidecar", spec["mode"])
	assert.Equal(t, placeholderImage+":0.1.0", spec["image"])

	// A component without settings is null in a file, {} in a resource.
	var emptyIsNull func(v any) any
	emptyIsNull = func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		if len(m) == 0 {
			return nil
		}
		out := map[string]any{}
		for k, e := range m {
			out[k] = emptyIsNull(e)
		}
		return out
	}
	// config/azure.yaml but for the metrics port, which the Operator must
	// read as a number: a port it cannot read makes it replace the whole
	// telemetry section with a reader on 0.0.0.0:8888.
	want := readYAML(t, filepath.Join("..", "config", "azure.yaml"))
	pull := func(config map[string]any) map[string]any {
		readers := config["service"].(map[string]any)["telemetry"].(map[string]any)["metrics"].(map[string]any)["readers"].([]any)
		return readers[0].(map[string]any)["pull"].(map[string]any)["exporter"].(map[string]any)["prometheus"].(map[string]any)
	}
	crConfig := spec["config"].(map[string]any)
	assert.Equal(t, float64(8888), pull(crConfig)["port"], "a number the Operator reads")
	assert.Equal(t, "127.0.0.1", pull(crConfig)["host"])
	pull(want)["port"] = pull(crConfig)["port"]
	assert.Equal(t, emptyIsNull(want), emptyIsNull(crConfig), "config/azure.yaml, as it is")

	// The collector's container, as the Operator builds it from the CR.
	var collector corev1.Container
	var volumes []corev1.Volume
	for field, into := range map[string]any{"env": &collector.Env, "volumeMounts": &collector.VolumeMounts, "securityContext": &collector.SecurityContext, "volumes": &volumes} {
		redecode(t, spec[field], into)
	}
	health, ok := envOf(collector, "RUNCONTEXT_HEALTH_ENDPOINT")
	require.True(t, ok, "health_check answers the kubelet, on the pod's address")
	assert.Equal(t, ":13133", health.Value, "every address, IPv4 and IPv6")
	dataDir, ok := envOf(collector, "RUNCONTEXT_DATA_DIR")
	require.True(t, ok)
	mount, ok := mountedAt(collector, dataDir.Value+"/spool")
	require.True(t, ok, "the spool is on a volume")
	require.Len(t, volumes, 1)
	assert.Equal(t, volumes[0].Name, mount.Name)
	require.NotNil(t, volumes[0].EmptyDir, "a volume of the pod")
	// Over its limit, the volume gets the pod evicted, the step with it:
	// the limit is above the spool's max_bytes and its dead letters (64 MiB).
	delivery := crConfig["extensions"].(map[string]any)["appinsights_delivery"].(map[string]any)
	maxBytes := int64(delivery["spool"].(map[string]any)["max_bytes"].(float64))
	require.NotNil(t, volumes[0].EmptyDir.SizeLimit)
	assert.Greater(t, volumes[0].EmptyDir.SizeLimit.Value(), maxBytes+64<<20)
	_, ok = envOf(collector, "RUNCONTEXT_ENTRA_CREDENTIAL")
	assert.True(t, ok, "keyless ingestion is one setting away")
	require.NotNil(t, collector.SecurityContext)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, collector.SecurityContext.SeccompProfile.Type)
	assert.Equal(t, []corev1.Capability{"ALL"}, collector.SecurityContext.Capabilities.Drop)

	pod := objs.jobs[0].Spec.Template
	assert.Equal(t, cr["metadata"].(map[string]any)["name"], pod.Annotations["sidecar.opentelemetry.io/inject"])
	config := spec["config"].(map[string]any)
	httpEndpoint := envDefault(config["receivers"].(map[string]any)["otlp"].(map[string]any)["protocols"].(map[string]any)["http"].(map[string]any)["endpoint"].(string))
	step := pod.Spec.Containers[0]
	endpoint, ok := envOf(step, "OTEL_EXPORTER_OTLP_ENDPOINT")
	require.True(t, ok)
	assert.Equal(t, "http://"+httpEndpoint, endpoint.Value)
	attributes, ok := envOf(step, "OTEL_RESOURCE_ATTRIBUTES")
	require.True(t, ok)
	assert.Contains(t, attributes.Value, "cicd.pipeline.run.id=$(JOB_UID)")
	assert.Contains(t, attributes.Value, "cicd.pipeline.task.run.id=$(POD_NAME)")
	assertDefinedBefore(t, step.Env, "JOB_UID", "OTEL_RESOURCE_ATTRIBUTES", "metadata.labels['batch.kubernetes.io/controller-uid']")
	assertDefinedBefore(t, step.Env, "POD_NAME", "OTEL_RESOURCE_ATTRIBUTES", "metadata.name")
	grace := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	assert.Greater(t, grace, 2*duration(t, config["extensions"].(map[string]any)["appinsights_delivery"].(map[string]any)["shutdown_timeout"].(string)))
}

// assertDefinedBefore checks that NAME comes from the downward API's FIELD
// and is defined before USER, which refers to it as $(NAME): Kubernetes
// expands only variables defined earlier in the list.
func assertDefinedBefore(t *testing.T, env []corev1.EnvVar, name, user, field string) {
	t.Helper()
	at := map[string]int{}
	for i, e := range env {
		at[e.Name] = i
	}
	require.Contains(t, at, name)
	require.Contains(t, at, user)
	assert.Less(t, at[name], at[user], "%s is defined before %s", name, user)
	source := env[at[name]].ValueFrom
	require.NotNil(t, source)
	require.NotNil(t, source.FieldRef)
	assert.Equal(t, field, source.FieldRef.FieldPath)
}

// The upstream chart's values mount what config/gateway.yaml reads where
// it reads it, and leave the grace period for its shutdown. (No helm runs
// here: the values are checked, not rendered.)
func TestHelmValuesMatchTheGateway(t *testing.T) {
	values := readYAML(t, filepath.Join("helm", "values.yaml"))
	gw := readGateway(t)
	assert.Equal(t, "statefulset", values["mode"])
	assert.Equal(t, placeholderImage, values["image"].(map[string]any)["repository"])

	var c corev1.Container
	redecode(t, values["extraVolumeMounts"], &c.VolumeMounts)
	redecode(t, values["extraEnvs"], &c.Env)
	var claims []corev1.PersistentVolumeClaim
	redecode(t, values["statefulset"].(map[string]any)["volumeClaimTemplates"], &claims)

	dataDir, ok := envOf(c, "RUNCONTEXT_DATA_DIR")
	require.True(t, ok)
	spool := strings.ReplaceAll(gw.Extensions.Delivery.Spool.Directory, "${env:RUNCONTEXT_DATA_DIR:-/var/lib/otelcol-runcontext}", dataDir.Value)
	mount, ok := mountedAt(c, spool)
	require.True(t, ok, "the spool %s is mounted", spool)
	require.Len(t, claims, 1)
	assert.Equal(t, claims[0].Name, mount.Name, "on the replica's own volume")
	for _, file := range []string{envDefault(gw.Receivers.OTLP.Protocols.GRPC.TLS.CertFile), envDefault(gw.Extensions.Token.Filename)} {
		_, ok := mountedAt(c, file)
		assert.True(t, ok, "%s is mounted", file)
	}
	// One GOMEMLIMIT: the chart's, from the memory limit.
	assert.Equal(t, true, values["useGOMEMLIMIT"])
	_, ok = envOf(c, "GOMEMLIMIT")
	assert.False(t, ok, "extraEnvs repeats the GOMEMLIMIT useGOMEMLIMIT sets")
	// Pod Security "restricted": the pod's and the container's contexts.
	var podSecurity corev1.PodSecurityContext
	redecode(t, values["podSecurityContext"], &podSecurity)
	require.NotNil(t, podSecurity.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, podSecurity.SeccompProfile.Type)
	assert.True(t, *podSecurity.RunAsNonRoot)
	var security corev1.SecurityContext
	redecode(t, values["securityContext"], &security)
	assert.False(t, *security.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, security.Capabilities.Drop)

	grace := time.Duration(values["terminationGracePeriodSeconds"].(float64)) * time.Second
	assert.Greater(t, grace, 2*duration(t, gw.Extensions.Delivery.ShutdownTimeout))
	assert.Equal(t, float64(port(t, envDefault(gw.Extensions.Health.Endpoint))),
		values["readinessProbe"].(map[string]any)["httpGet"].(map[string]any)["port"])

	// The chart's autoscaler takes behavior as it is: up only, as the
	// manifests', so that no spool is stranded.
	var behavior autoscalingv2.HorizontalPodAutoscalerBehavior
	redecode(t, values["autoscaling"].(map[string]any)["behavior"], &behavior)
	require.NotNil(t, behavior.ScaleDown)
	require.NotNil(t, behavior.ScaleDown.SelectPolicy)
	assert.Equal(t, autoscalingv2.DisabledPolicySelect, *behavior.ScaleDown.SelectPolicy)
}

// The optional PodMonitor component, added to an overlay of the gateway as
// a user would: it lands in the gateway's namespace, selects the
// gateway's pods and scrapes the container port the NetworkPolicy opens
// to the monitoring namespace.
func TestKubernetesMonitoringComponent(t *testing.T) {
	objs := decodeStrict(t, withComponent(t, "kubernetes-monitoring"))
	require.Len(t, objs.others["PodMonitor"], 1)
	var monitor struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            struct {
			Selector            metav1.LabelSelector
			PodMetricsEndpoints []struct {
				Port     string
				Path     string
				Interval string
			} `json:"podMetricsEndpoints"`
		}
	}
	redecode(t, objs.others["PodMonitor"][0], &monitor)
	require.Len(t, objs.statefulSets, 1)
	sts := objs.statefulSets[0]
	assert.Equal(t, sts.Namespace, monitor.Metadata.Namespace)
	selector, err := metav1.LabelSelectorAsSelector(&monitor.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(sts.Spec.Template.Labels)), "selects the gateway's pods")
	require.Len(t, monitor.Spec.PodMetricsEndpoints, 1)
	endpoint := monitor.Spec.PodMetricsEndpoints[0]
	assert.NotZero(t, containerPort(sts.Spec.Template.Spec.Containers[0], endpoint.Port), "a port of the container")
	assert.Equal(t, "/metrics", endpoint.Path)
	require.Len(t, objs.policies, 1)
	var opened bool
	for _, rule := range objs.policies[0].Spec.Ingress {
		for _, p := range rule.Ports {
			if p.Port != nil && p.Port.String() == endpoint.Port {
				opened = true
			}
		}
	}
	assert.True(t, opened, "the NetworkPolicy lets the scrape in")
}

// withComponent renders an overlay of the gateway with one of the optional
// components added, as a user's overlay does.
func withComponent(t *testing.T, components ...string) []byte {
	t.Helper()
	overlay := t.TempDir()
	rel := func(dir string) string {
		abs, err := filepath.Abs(dir)
		require.NoError(t, err)
		r, err := filepath.Rel(overlay, abs)
		require.NoError(t, err)
		return r
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - " + rel("kubernetes") + "\ncomponents:\n"
	for _, c := range components {
		kustomization += "  - " + rel(c) + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o600))
	return kustomize(t, overlay)
}

// The optional cert-manager component: its Certificate is the Secret the
// gateway mounts for TLS, in its namespace, for every name a step can
// send to through the Service, and renews before it expires.
func TestKubernetesCertManagerComponent(t *testing.T) {
	objs := decodeStrict(t, withComponent(t, "kubernetes-certmanager"))
	require.Len(t, objs.others["Certificate"], 1)
	var cert struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            struct {
			SecretName  string   `json:"secretName"`
			DNSNames    []string `json:"dnsNames"`
			Duration    string   `json:"duration"`
			RenewBefore string   `json:"renewBefore"`
			PrivateKey  struct {
				Algorithm      string `json:"algorithm"`
				Size           int    `json:"size"`
				RotationPolicy string `json:"rotationPolicy"`
			} `json:"privateKey"`
			Usages    []string `json:"usages"`
			IssuerRef struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"issuerRef"`
		} `json:"spec"`
	}
	redecode(t, objs.others["Certificate"][0], &cert)
	require.Len(t, objs.statefulSets, 1)
	sts := objs.statefulSets[0]
	assert.Equal(t, sts.Namespace, cert.Metadata.Namespace)
	var tlsSecret string
	for _, v := range sts.Spec.Template.Spec.Volumes {
		if v.Name == "tls" && v.Secret != nil {
			tlsSecret = v.Secret.SecretName
		}
	}
	assert.Equal(t, tlsSecret, cert.Spec.SecretName, "the Secret the gateway mounts")
	for _, svc := range objs.services {
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue // the headless Service names pods, not where steps send
		}
		for _, name := range []string{svc.Name, svc.Name + "." + svc.Namespace, svc.Name + "." + svc.Namespace + ".svc", svc.Name + "." + svc.Namespace + ".svc.cluster.local"} {
			assert.Contains(t, cert.Spec.DNSNames, name)
		}
	}
	assert.Less(t, duration(t, cert.Spec.RenewBefore), duration(t, cert.Spec.Duration))
	assert.Equal(t, []string{"server auth"}, cert.Spec.Usages)
	assert.NotEmpty(t, cert.Spec.IssuerRef.Name)
}
