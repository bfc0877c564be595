{{/*
Names, labels and the pieces every component's manifests share.
*/}}

{{/* The chart name, overridable. */}}
{{- define "newswire.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release-qualified name that every object name starts with. Kept short enough for a
component suffix ("-deduper-config") to fit the 63-character limit of label values.
*/}}
{{- define "newswire.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, as the helm.sh/chart label wants it. */}}
{{- define "newswire.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object. Called with (dict "root" $ "component" "fetcher"); the component is
optional for chart-wide objects.
*/}}
{{- define "newswire.labels" -}}
{{- $root := .root -}}
helm.sh/chart: {{ include "newswire.chart" $root }}
{{ include "newswire.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Values.image.tag | default $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: newswire
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: name, instance and component only. Selectors are immutable, so nothing that
can change between releases (version, chart) may go in here.
*/}}
{{- define "newswire.selectorLabels" -}}
app.kubernetes.io/name: {{ include "newswire.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* The name of one component's objects: <fullname>-<component>. */}}
{{- define "newswire.componentName" -}}
{{- printf "%s-%s" (include "newswire.fullname" .root) .component }}
{{- end }}

{{/* The service account the services run as. */}}
{{- define "newswire.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "newswire.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* image reference: repository:tag, or repository@digest when a digest is given. */}}
{{- define "newswire.image" -}}
{{- $image := .image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/* The components the chart knows, in pipeline order. */}}
{{- define "newswire.components" -}}
fetcher cleaner deduper tagger alerter
{{- end }}

{{/* Where the mounted files live inside the containers. */}}
{{- define "newswire.paths" -}}
config: /etc/newswire/config
feeds: /etc/newswire/feeds
taxonomy: /etc/newswire/taxonomy
saslPassword: /etc/newswire/kafka-sasl
tlsCa: /etc/newswire/kafka-ca
tlsClient: /etc/newswire/kafka-client
websubSecret: /etc/newswire/websub
{{- end }}

{{/* Whether the security protocol uses SASL / TLS ("true" or ""). */}}
{{- define "newswire.usesSasl" -}}
{{- if hasPrefix "sasl_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}
{{- define "newswire.usesTls" -}}
{{- if has .Values.kafka.securityProtocol (list "ssl" "sasl_ssl") }}true{{ end }}
{{- end }}

{{/*
Fails the render on settings that would only fail at run time: SASL without credentials,
client certificate without its key.
*/}}
{{- define "newswire.validate" -}}
{{- $kafka := .Values.kafka }}
{{- if include "newswire.usesSasl" . }}
{{- if not $kafka.sasl.username }}
{{- fail (printf "kafka.sasl.username is required with kafka.securityProtocol=%s" $kafka.securityProtocol) }}
{{- end }}
{{- if not $kafka.sasl.passwordSecret.name }}
{{- fail (printf "kafka.sasl.passwordSecret.name (an existing Secret) is required with kafka.securityProtocol=%s" $kafka.securityProtocol) }}
{{- end }}
{{- end }}
{{- $websub := .Values.fetcher.websub }}
{{- if and .Values.fetcher.enabled $websub.enabled }}
{{- if not $websub.callbackUrl }}
{{- fail "fetcher.websub.callbackUrl is required with fetcher.websub.enabled (the URL hubs reach the push port at)" }}
{{- end }}
{{- if not $websub.secret.name }}
{{- fail "fetcher.websub.secret.name (an existing Secret) is required with fetcher.websub.enabled" }}
{{- end }}
{{- if eq (int $websub.port) (int .Values.service.port) }}
{{- fail "fetcher.websub.port must differ from service.port" }}
{{- end }}
{{- end }}
{{- if and (not (include "newswire.usesTls" .)) (or $kafka.tls.caSecret.name $kafka.tls.clientCertSecret.name) }}
{{- fail (printf "kafka.tls secrets are set but kafka.securityProtocol=%s does not use TLS (use ssl or sasl_ssl)" $kafka.securityProtocol) }}
{{- end }}
{{- end }}

{{/*
The kafka: section of every configuration file (services and the topic Job), in the
services' own keys (shared/config): secrets are referred to by their mounted paths only.
*/}}
{{- define "newswire.kafkaConfig" -}}
{{- $kafka := .Values.kafka }}
{{- $paths := include "newswire.paths" . | fromYaml }}
{{- $names := .Values.topics.names }}
{{- $config := dict "bootstrap_servers" $kafka.bootstrapServers "security_protocol" $kafka.securityProtocol }}
{{- if include "newswire.usesSasl" . }}
{{- $_ := set $config "sasl" (dict "mechanism" $kafka.sasl.mechanism "username" $kafka.sasl.username "password_file" (printf "%s/%s" $paths.saslPassword $kafka.sasl.passwordSecret.key)) }}
{{- end }}
{{- if include "newswire.usesTls" . }}
{{- $tls := dict }}
{{- if $kafka.tls.caSecret.name }}
{{- $_ := set $tls "ca_location" (printf "%s/%s" $paths.tlsCa $kafka.tls.caSecret.key) }}
{{- end }}
{{- if $kafka.tls.clientCertSecret.name }}
{{- $_ := set $tls "certificate_location" (printf "%s/%s" $paths.tlsClient $kafka.tls.clientCertSecret.certKey) }}
{{- $_ := set $tls "key_location" (printf "%s/%s" $paths.tlsClient $kafka.tls.clientCertSecret.keyKey) }}
{{- end }}
{{- if $tls }}
{{- $_ := set $config "tls" $tls }}
{{- end }}
{{- end }}
{{- $topics := dict "raw" $names.raw "cleaned" $names.cleaned "unique" $names.unique "enriched" $names.enriched "dlq" $names.dlq "fetcher_state" $names.fetcherState "deduper_state" $names.deduperState "feeds" $names.feeds "alerts" $names.alerts "alerter_state" $names.alerterState }}
{{- $_ := set $config "topics" $topics }}
{{- with $kafka.librdkafka }}
{{- /* librdkafka properties are strings to the services: 100 and true are sent as "100", "true". */}}
{{- $properties := dict }}
{{- range $key, $value := . }}
{{- $_ := set $properties $key (toString $value) }}
{{- end }}
{{- $_ := set $config "librdkafka" $properties }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/*
One service's whole configuration file: kafka, runtime, the service's own files, then the
component's `config` map merged over it (it wins).
*/}}
{{- define "newswire.serviceConfig" -}}
{{- $root := .root }}
{{- $values := index $root.Values .component }}
{{- $paths := include "newswire.paths" $root | fromYaml }}
{{- $runtime := $root.Values.runtime }}
{{- $config := dict "kafka" (include "newswire.kafkaConfig" $root | fromYaml) }}
{{- $_ := set $config "runtime" (dict "listen_addr" (printf "0.0.0.0:%d" (int $root.Values.service.port)) "batch_max_records" $runtime.batchMaxRecords "batch_max_wait_ms" $runtime.batchMaxWaitMs "transaction_timeout_ms" $runtime.transactionTimeoutMs "hanging_transaction_secs" $runtime.hangingTransactionSecs "stall_timeout_secs" $runtime.stallTimeoutSecs "drain_timeout_secs" $runtime.drainTimeoutSecs) }}
{{- if eq .component "fetcher" }}
{{- $_ := set $config "feeds_file" (printf "%s/feeds.yaml" $paths.feeds) }}
{{- if $values.websub.enabled }}
{{- $websub := dict "callback_url" $values.websub.callbackUrl "listen_addr" (printf "0.0.0.0:%d" (int $values.websub.port)) "secret" (dict "file" (printf "%s/%s" $paths.websubSecret $values.websub.secret.key)) }}
{{- $_ := set $config "fetcher" (dict "websub" $websub) }}
{{- end }}
{{- end }}
{{- if eq .component "tagger" }}
{{- $_ := set $config "taxonomy_file" (printf "%s/taxonomy.yaml" $paths.taxonomy) }}
{{- end }}
{{- toYaml (mustMergeOverwrite $config (deepCopy $values.config)) }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the component's value, else the drain timeout plus a margin for
the process to exit. Fails when it would not outlast the drain timeout.
*/}}
{{- define "newswire.gracePeriod" -}}
{{- $values := index .root.Values .component }}
{{- $config := include "newswire.serviceConfig" . | fromYaml }}
{{- $drain := int $config.runtime.drain_timeout_secs }}
{{- $grace := int (default (add $drain 15) $values.terminationGracePeriodSeconds) }}
{{- if le $grace $drain }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be longer than the drain timeout (%d s)" .component $grace $drain) }}
{{- end }}
{{- $grace }}
{{- end }}
