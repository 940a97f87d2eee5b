{{/* Names, labels and shared snippets of the chart (the `helm create` shape). */}}

{{- define "videoanalysis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* release-chart, cut to 63 characters (DNS label); the release name alone when it contains the chart name. */}}
{{- define "videoanalysis.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "videoanalysis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "videoanalysis.labels" -}}
helm.sh/chart: {{ include "videoanalysis.chart" . }}
{{ include "videoanalysis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: videoanalysis
{{- end }}

{{/* Selector labels (stable across upgrades). */}}
{{- define "videoanalysis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "videoanalysis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: (dict "ctx" $ "component" "api"). */}}
{{- define "videoanalysis.componentLabels" -}}
{{ include "videoanalysis.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "videoanalysis.componentSelector" -}}
{{ include "videoanalysis.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Image reference of one component: (dict "ctx" $ "image" .Values.api.image), with "external" true
for an image the chart does not build (PostgreSQL: its own registry and tag, never image.*).
global.imageRegistry, a mirror of every image, wins over either registry; a digest pins the image
and its tag is then ignored. */}}
{{- define "videoanalysis.image" -}}
{{- $g := .ctx.Values.image }}
{{- $registry := $g.registry }}
{{- $tag := "" }}
{{- if .external }}
{{- $registry = .image.registry }}
{{- $tag = .image.tag }}
{{- else }}
{{- $tag = .image.tag | default $g.tag | default .ctx.Chart.AppVersion }}
{{- end }}
{{- $registry = (.ctx.Values.global | default dict).imageRegistry | default $registry }}
{{- $ref := .image.repository }}
{{- with $registry }}{{ $ref = printf "%s/%s" (trimSuffix "/" .) $ref }}{{ end }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (required (printf "image %s needs a tag or a digest" .image.repository) $tag) }}
{{- end }}
{{- end }}

{{- define "videoanalysis.apiName" -}}{{ include "videoanalysis.fullname" . }}-api{{- end }}
{{- define "videoanalysis.operatorName" -}}{{ include "videoanalysis.fullname" . }}-operator{{- end }}
{{/* The analysis Jobs' ServiceAccount (the operator runs every Job under it). */}}
{{- define "videoanalysis.jobName" -}}{{ include "videoanalysis.serviceAccountName" (dict "ctx" . "component" "job") }}{{- end }}
{{- define "videoanalysis.postgresqlName" -}}{{ include "videoanalysis.fullname" . }}-postgresql{{- end }}

{{/* The Secret with secret-key and database-url (the chart's or an existing one). */}}
{{- define "videoanalysis.secretName" -}}
{{- .Values.secret.existingSecret | default (include "videoanalysis.fullname" .) }}
{{- end }}

{{/* The videos PVC (the chart's or an existing one). */}}
{{- define "videoanalysis.videosClaim" -}}
{{- .Values.storage.existingClaim | default (printf "%s-videos" (include "videoanalysis.fullname" .)) }}
{{- end }}

{{/* Environment shared by every pod that opens the database. */}}
{{- define "videoanalysis.databaseEnv" -}}
- name: VA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "videoanalysis.secretName" . }}
      key: database-url
{{- end }}

{{/* global.imagePullSecrets (names or {name}) then image.pullSecrets, each name once, as a JSON
list of {name} (fromJsonArray it to hand the list on, e.g. to the analysis Jobs). */}}
{{- define "videoanalysis.imagePullSecretList" -}}
{{- $names := list }}
{{- range concat ((.Values.global | default dict).imagePullSecrets | default list) (.Values.image.pullSecrets | default list) }}
{{- if kindIs "string" . }}{{ $names = append $names . }}{{ else }}{{ $names = append $names .name }}{{ end }}
{{- end }}
{{- $list := list }}
{{- range uniq $names }}{{ $list = append $list (dict "name" .) }}{{ end }}
{{- toJson $list }}
{{- end }}

{{- define "videoanalysis.imagePullSecrets" -}}
{{- with include "videoanalysis.imagePullSecretList" . | fromJsonArray -}}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A component's ServiceAccount: (dict "ctx" $ "component" "api"), component one of api, operator,
job, secretBootstrap; serviceAccount.<component>.name, else <fullname>-<component in kebab case>. */}}
{{- define "videoanalysis.serviceAccountName" -}}
{{- $sa := index .ctx.Values.serviceAccount .component | default dict }}
{{- $sa.name | default (printf "%s-%s" (include "videoanalysis.fullname" .ctx) (kebabcase .component)) }}
{{- end }}

{{/* Pod template metadata: (dict "ctx" $ "component" "api" "values" .Values.api). podLabels are
added but never replace a chart label (the selector labels among them); podAnnotations as given. */}}
{{- define "videoanalysis.podMetadata" -}}
{{- $own := include "videoanalysis.componentLabels" . | fromYaml }}
{{- $extra := dict }}
{{- range $k, $v := .values.podLabels }}{{ if not (hasKey $own $k) }}{{ $_ := set $extra $k $v }}{{ end }}{{ end -}}
labels:
  {{- include "videoanalysis.componentLabels" . | nindent 2 }}
  {{- with $extra }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod spec scheduling of a component: (dict "ctx" $ "component" "api" "values" .Values.api):
priorityClassName, and topologySpreadConstraints where a constraint without labelSelector spreads
this component's pods. */}}
{{- define "videoanalysis.podScheduling" -}}
{{- $out := dict }}
{{- with .values.priorityClassName }}{{ $_ := set $out "priorityClassName" . }}{{ end }}
{{- $selector := dict "matchLabels" (include "videoanalysis.componentSelector" . | fromYaml) }}
{{- $spread := list }}
{{- range .values.topologySpreadConstraints }}
{{- if hasKey . "labelSelector" }}{{ $spread = append $spread . }}
{{- else }}{{ $spread = append $spread (merge (dict "labelSelector" (deepCopy $selector)) .) }}{{ end }}
{{- end }}
{{- with $spread }}{{ $_ := set $out "topologySpreadConstraints" . }}{{ end }}
{{- with $out }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* VA_PUBLIC_URL (links in webhooks and status.resultUrl): api.publicUrl, else the first Ingress
host (https when a TLS block names it), else https:// and the first HTTPRoute hostname that is no
wildcard (the route cannot see whether its Gateway listener terminates TLS; public ones do), else
the in-cluster Service URL. */}}
{{- define "videoanalysis.publicUrl" -}}
{{- $ing := .Values.api.ingress }}
{{- $routeHosts := list }}
{{- if (.Values.api.httpRoute | default dict).enabled }}
{{- range .Values.api.httpRoute.hostnames }}{{ if not (hasPrefix "*" .) }}{{ $routeHosts = append $routeHosts . }}{{ end }}{{ end }}
{{- end }}
{{- if .Values.api.publicUrl }}
{{- trimSuffix "/" .Values.api.publicUrl }}
{{- else if and $ing.enabled $ing.hosts }}
{{- $host := (first $ing.hosts).host }}
{{- $tls := false }}
{{- range $ing.tls }}{{ if has $host (.hosts | default list) }}{{ $tls = true }}{{ end }}{{ end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
{{- else if $routeHosts }}
{{- printf "https://%s" (first $routeHosts) }}
{{- else }}
{{- printf "http://%s.%s.svc:%v" (include "videoanalysis.apiName" .) .Release.Namespace .Values.api.service.port }}
{{- end }}
{{- end }}

{{/* Settings the API and the operator share (the operator hands the video-URL ones to each Job). */}}
{{- define "videoanalysis.sharedEnv" -}}
- name: VA_RETENTION_DAYS
  value: {{ .Values.retentionDays | int | quote }}
- name: VA_VIDEO_URL_ALLOW_HTTP
  value: {{ .Values.videoUrls.allowHttp | toString | quote }}
- name: VA_VIDEO_URL_ALLOWED_NETWORKS
  value: {{ .Values.videoUrls.allowedNetworks | quote }}
- name: VA_VIDEO_URL_MAX_BYTES
  value: {{ .Values.videoUrls.maxBytes | int64 | quote }}
{{- if .Values.videoUrls.caBundleConfigMap }}
- name: VA_CA_BUNDLE
  value: {{ include "videoanalysis.caBundlePath" . | quote }}
{{- end }}
{{- end }}

{{/* Where the CA bundle's ConfigMap is mounted, in the API and (by the operator) in each Job. */}}
{{- define "videoanalysis.caBundlePath" -}}/etc/videoanalysis/ca-bundle/ca.crt{{- end }}
