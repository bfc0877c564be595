{{/*
The feeds list and the taxonomy: from the values (feeds.content, taxonomy.content), else the
files the chart ships (files/, the same files as deploy/), or an existing ConfigMap.
*/}}

{{- define "newswire.feedsContent" -}}
{{- .Values.feeds.content | default (.Files.Get "files/feeds.yaml") }}
{{- end }}

{{- define "newswire.feedsConfigMap" -}}
{{- .Values.feeds.existingConfigMap | default (printf "%s-feeds" (include "newswire.fullname" .)) }}
{{- end }}

{{- define "newswire.taxonomyContent" -}}
{{- .Values.taxonomy.content | default (.Files.Get "files/taxonomy.yaml") }}
{{- end }}

{{- define "newswire.taxonomyConfigMap" -}}
{{- .Values.taxonomy.existingConfigMap | default (printf "%s-taxonomy" (include "newswire.fullname" .)) }}
{{- end }}
