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

{{/* Image reference of one component: (dict "ctx" $ "image" .Values.api.image). */}}
{{- define "videoanalysis.image" -}}
{{- $g := .ctx.Values.image }}
{{- $tag := .image.tag | default $g.tag | default .ctx.Chart.AppVersion }}
{{- if $g.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" $g.registry) .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "videoanalysis.apiName" -}}{{ include "videoanalysis.fullname" . }}-api{{- end }}
{{- define "videoanalysis.operatorName" -}}{{ include "videoanalysis.fullname" . }}-operator{{- end }}
{{- define "videoanalysis.jobName" -}}{{ include "videoanalysis.fullname" . }}-job{{- end }}
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

{{- define "videoanalysis.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* VA_PUBLIC_URL (links in webhooks and status.resultUrl): api.publicUrl, else the first Ingress
host (https when a TLS block names it), else the in-cluster Service URL. */}}
{{- define "videoanalysis.publicUrl" -}}
{{- $ing := .Values.api.ingress }}
{{- if .Values.api.publicUrl }}
{{- trimSuffix "/" .Values.api.publicUrl }}
{{- else if and $ing.enabled $ing.hosts }}
{{- $host := (first $ing.hosts).host }}
{{- $tls := false }}
{{- range $ing.tls }}{{ if has $host (.hosts | default list) }}{{ $tls = true }}{{ end }}{{ end }}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host }}
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
