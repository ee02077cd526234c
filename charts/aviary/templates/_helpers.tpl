{{/* Object names: the release name, plus "-aviary" unless it already says aviary. */}}
{{- define "aviary.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aviary.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "aviary.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aviary.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aviary.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aviary.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aviary.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "aviary.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "aviary.controllerLabels" -}}
{{ include "aviary.labels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "aviary.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The namespaces the controller watches, de-duplicated; empty means the whole cluster. */}}
{{- define "aviary.watchNamespaces" -}}
{{- .Values.watchNamespaces | uniq | join "," -}}
{{- end -}}

{{/*
The controller's container arguments: the image's entrypoint is `aviary controller`.
The e2e test test/e2e/chart-production.test.ts runs the production layout with exactly
these arguments (and the env below).
*/}}
{{- define "aviary.args" -}}
- --metrics-port={{ .Values.controller.metricsPort }}
{{- if .Values.watchNamespaces }}
- --namespaces={{ include "aviary.watchNamespaces" . }}
{{- end }}
{{- with .Values.instanceId }}
- --instance-id={{ . }}
{{- end }}
{{- with .Values.rolloutSelector }}
- --selector={{ . }}
{{- end }}
{{- if not .Values.controller.leaderElect }}
- --no-leader-elect
{{- end }}
{{- with .Values.controller.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}
