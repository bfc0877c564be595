{{/*
The objects every service has, rendered per component from templates/<component>/*.yaml with
(dict "root" $ "component" "<name>"): Deployment, Service, ConfigMap, PodDisruptionBudget and
HorizontalPodAutoscaler.
*/}}

{{- define "newswire.deployment" -}}
{{- $root := .root }}
{{- $component := .component }}
{{- $values := index $root.Values $component }}
{{- $paths := include "newswire.paths" $root | fromYaml }}
{{- $kafka := $root.Values.kafka }}
{{- $autoscaled := and (hasKey $values "autoscaling") $values.autoscaling.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "newswire.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "newswire.labels" . | nindent 4 }}
spec:
  {{- if not $autoscaled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: {{ $root.Values.revisionHistoryLimit }}
  selector:
    matchLabels:
      {{- include "newswire.selectorLabels" . | nindent 6 }}
  strategy:
    {{- toYaml $values.strategy | nindent 4 }}
  template:
    metadata:
      labels:
        {{- include "newswire.labels" . | nindent 8 }}
        {{- with $values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # A changed configuration rolls the pods: the services read it at start only.
        checksum/config: {{ include "newswire.serviceConfig" . | sha256sum }}
        {{- if eq $component "fetcher" }}
        # The fetcher reads the feeds file at start only: a new list rolls it.
        checksum/feeds: {{ include "newswire.feedsContent" $root | sha256sum }}
        {{- end }}
        {{- if and (eq $component "tagger") $values.rollOnTaxonomyChange }}
        checksum/taxonomy: {{ include "newswire.taxonomyContent" $root | sha256sum }}
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "newswire.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ include "newswire.gracePeriod" . }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $component }}
          image: {{ include "newswire.image" (dict "root" $root "image" $root.Values.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["/usr/local/bin/{{ $component }}"]
          args: ["--config", "{{ $paths.config }}/config.yaml"]
          env:
            - name: NEWSWIRE_LOG
              value: {{ $values.logLevel | default $root.Values.logLevel | quote }}
            {{- range $name, $value := $values.env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $root.Values.service.port }}
              protocol: TCP
            {{- if and (eq $component "fetcher") $values.websub.enabled }}
            - name: push
              containerPort: {{ $values.websub.port }}
              protocol: TCP
            {{- end }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            {{- toYaml $values.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            {{- toYaml $values.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ $paths.config }}
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- if eq $component "fetcher" }}
            - name: feeds
              mountPath: {{ $paths.feeds }}
              readOnly: true
            {{- if $values.websub.enabled }}
            - name: websub-secret
              mountPath: {{ $paths.websubSecret }}
              readOnly: true
            {{- end }}
            {{- end }}
            {{- if eq $component "tagger" }}
            # The whole directory, not a subPath: the kubelet then swaps the file in place when
            # the ConfigMap changes, and the tagger reloads it without a restart.
            - name: taxonomy
              mountPath: {{ $paths.taxonomy }}
              readOnly: true
            {{- end }}
            {{- with include "newswire.kafkaSecretMounts" $root }}
            {{- . | trim | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "newswire.componentName" . }}-config
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if eq $component "fetcher" }}
        - name: feeds
          configMap:
            name: {{ include "newswire.feedsConfigMap" $root }}
        {{- if $values.websub.enabled }}
        - name: websub-secret
          secret:
            secretName: {{ $values.websub.secret.name }}
            items:
              - key: {{ $values.websub.secret.key }}
                path: {{ $values.websub.secret.key }}
        {{- end }}
        {{- end }}
        {{- if eq $component "tagger" }}
        - name: taxonomy
          configMap:
            name: {{ include "newswire.taxonomyConfigMap" $root }}
            {{- if not $root.Values.taxonomy.existingConfigMap }}
            # The taxonomy names its gazetteers as gazetteer/<name>.yaml beside it.
            items:
              - key: taxonomy.yaml
                path: taxonomy.yaml
              {{- range $name := list "countries" "people" "organisations" }}
              - key: gazetteer-{{ $name }}.yaml
                path: gazetteer/{{ $name }}.yaml
              {{- end }}
            {{- end }}
        {{- end }}
        {{- with include "newswire.kafkaSecretVolumes" $root }}
        {{- . | trim | nindent 8 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* Mounts of the Kafka Secrets the security protocol needs (may render nothing). */}}
{{- define "newswire.kafkaSecretMounts" -}}
{{- $paths := include "newswire.paths" . | fromYaml }}
{{- if include "newswire.usesSasl" . }}
- name: kafka-sasl
  mountPath: {{ $paths.saslPassword }}
  readOnly: true
{{- end }}
{{- if include "newswire.usesTls" . }}
{{- if .Values.kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: {{ $paths.tlsCa }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret.name }}
- name: kafka-client
  mountPath: {{ $paths.tlsClient }}
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes from the existing Kafka Secrets: only the keys that are used, read-only. */}}
{{- define "newswire.kafkaSecretVolumes" -}}
{{- $kafka := .Values.kafka }}
{{- if include "newswire.usesSasl" . }}
- name: kafka-sasl
  secret:
    secretName: {{ $kafka.sasl.passwordSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ $kafka.sasl.passwordSecret.key }}
        path: {{ $kafka.sasl.passwordSecret.key }}
{{- end }}
{{- if include "newswire.usesTls" . }}
{{- if $kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $kafka.tls.caSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ $kafka.tls.caSecret.key }}
        path: {{ $kafka.tls.caSecret.key }}
{{- end }}
{{- if $kafka.tls.clientCertSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ $kafka.tls.clientCertSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ $kafka.tls.clientCertSecret.certKey }}
        path: {{ $kafka.tls.clientCertSecret.certKey }}
      - key: {{ $kafka.tls.clientCertSecret.keyKey }}
        path: {{ $kafka.tls.clientCertSecret.keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{- define "newswire.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "newswire.componentName" . }}-config
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "newswire.labels" . | nindent 4 }}
data:
  config.yaml: |
    {{- include "newswire.serviceConfig" . | nindent 4 }}
{{- end }}

{{- define "newswire.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "newswire.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "newswire.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  ports:
    - name: http
      port: {{ .root.Values.service.port }}
      targetPort: http
      protocol: TCP
    {{- if and (eq .component "fetcher") .root.Values.fetcher.websub.enabled }}
    - name: push
      port: {{ .root.Values.fetcher.websub.port }}
      targetPort: push
      protocol: TCP
    {{- end }}
  selector:
    {{- include "newswire.selectorLabels" . | nindent 4 }}
{{- end }}

{{- define "newswire.pdb" -}}
{{- $values := index .root.Values .component }}
{{- if $values.podDisruptionBudget.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "newswire.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "newswire.labels" . | nindent 4 }}
spec:
  {{- if hasKey $values.podDisruptionBudget "minAvailable" }}
  minAvailable: {{ $values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $values.podDisruptionBudget.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "newswire.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "newswire.hpa" -}}
{{- $values := index .root.Values .component }}
{{- if $values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "newswire.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "newswire.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "newswire.componentName" . }}
  minReplicas: {{ $values.autoscaling.minReplicas }}
  maxReplicas: {{ $values.autoscaling.maxReplicas }}
  metrics:
    {{- with $values.autoscaling.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $values.autoscaling.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
  {{- with $values.autoscaling.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
