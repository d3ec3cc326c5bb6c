{{/*
The objects' names: the release's name when it holds the chart's, else
<release>-otelcol-runcontext. Installed as otelcol-runcontext, the names are
those of deploy/kubernetes.
*/}}
{{- define "otelcol-runcontext.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* What every object carries and every selector matches. */}}
{{- define "otelcol-runcontext.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{/* The gateway's configuration: values' config, or this release's config/gateway.yaml. */}}
{{- define "otelcol-runcontext.config" -}}
{{- if .Values.config -}}
{{- toYaml .Values.config -}}
{{- else -}}
{{- .Files.Get "files/gateway.yaml" -}}
{{- end -}}
{{- end -}}

{{/*
The ConfigMap's name with a hash of its content, as kustomize's
configMapGenerator makes it (the first ten hex digits of the SHA-256 of
{"data":...,"kind":"ConfigMap","name":...}, with 0, 1, 3, a and e spelt g,
h, k, m and t): a change of configuration changes the pod template, which
rolls the pods.
*/}}
{{- define "otelcol-runcontext.configMapName" -}}
{{- $name := printf "%s-config" (include "otelcol-runcontext.fullname" .) -}}
{{- $content := dict "data" (dict "gateway.yaml" (include "otelcol-runcontext.config" .)) "kind" "ConfigMap" "name" $name -}}
{{- $hash := $content | toJson | sha256sum | trunc 10 | replace "0" "g" | replace "1" "h" | replace "3" "k" | replace "a" "m" | replace "e" "t" -}}
{{- printf "%s-%s" $name $hash -}}
{{- end -}}

{{- define "otelcol-runcontext.image" -}}
{{- $repository := required "image.repository: set it to your registry's copy of make image, for example myregistry.azurecr.io/otelcol-runcontext (docs/deployment.md#the-image); no release is published" .Values.image.repository -}}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "otelcol-runcontext.secret" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- index $root.Values.secrets $name | default (printf "%s-%s" (include "otelcol-runcontext.fullname" $root) (index . 2)) -}}
{{- end -}}
