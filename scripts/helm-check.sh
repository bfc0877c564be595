#!/usr/bin/env bash
# Checks of the deployment files (called from scripts/test.sh; runs on its own too):
#   1. the chart's copies of deploy/ files are byte-identical to deploy/ (sync-deploy-files.sh)
#   2. helm lint --strict with every ci/ variant (ci/default-values.yaml: the defaults) and the
#      README's install example
#   3. helm template of every ci/ variant, validated against the
#      Kubernetes JSON schemas of a current release (kubernetes-validate, strict: no unknown fields)
#   4. helm-unittest suites (helm/newswire/tests), and every rendered configuration, feeds and
#      taxonomy file loaded by the services' own parsers (newswire check-config)
#   5. checkov on the rendered manifests and the Dockerfile; the only skipped checks are the
#      ones listed, each with its reason, in helm/newswire/checkov-skips.yaml
#   6. docker-compose.yaml against the compose-spec JSON schema, and in step with the chart
#   7. the chart README's values table documents every value (scripts/chart-values-doc.py)
# Tools come from scripts/deploy-tools.sh (cached under $NEWSWIRE_CACHE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Kubernetes release whose schemas the manifests must validate against.
KUBERNETES_VERSION=1.37.0
chart=helm/newswire

tools=$(scripts/deploy-tools.sh)
eval "$tools"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
step() { # name command...
  local name=$1
  shift
  echo "helm-check: $name" >&2
  if "$@" >"$work/step.log" 2>&1; then
    passed=$((passed + 1))
    grep "^NOT CHECKED" "$work/step.log" >&2 || true
  else
    failed=$((failed + 1))
    echo "helm-check: FAILED: $name" >&2
    cat "$work/step.log" >&2
  fi
}

# The ci/ variants, and the values file of the README's TLS+SASL install example (the first
# yaml block of helm/newswire/README.md), so that the documented install keeps working.
python3 - "$chart/README.md" "$work/readme-example-values.yaml" <<'PY'
import re, sys
blocks = re.findall(r"```yaml\n(.*?)```", open(sys.argv[1]).read(), re.S)
if not blocks:
    sys.exit("helm-check: no yaml example in the chart README")
open(sys.argv[2], "w").write(blocks[0])
PY
variants=("$chart"/ci/*-values.yaml "$work/readme-example-values.yaml")
render() { # variant -> $work/rendered/<name>.yaml
  local variant=$1 name args
  name=$(basename "$variant" -values.yaml)
  args=(-f "$variant")
  mkdir -p "$work/rendered"
  helm template news "$chart" --namespace newswire --kube-version "$KUBERNETES_VERSION" "${args[@]}" >"$work/rendered/$name.yaml"
}
lint() {
  helm lint --strict "$chart" -f "$1"
}

step "chart copies of deploy/ files are identical" scripts/sync-deploy-files.sh --check
for variant in "${variants[@]}"; do
  step "helm lint --strict ($(basename "$variant"))" lint "$variant"
  step "helm template ($(basename "$variant"))" render "$variant"
done

validate() {
  # The Prometheus Operator kinds are CRDs, which kubernetes-validate has no schemas for;
  # checked by the unit tests and the operator's admission instead.
  kubernetes-validate --strict --quiet --kubernetes-version "$KUBERNETES_VERSION" "$work"/rendered/*.yaml
}
step "kubernetes-validate (Kubernetes $KUBERNETES_VERSION, strict)" validate

step "helm unittest" helm unittest --strict "$chart"

check_configs() {
  # The rendered configuration, feeds and taxonomy files, parsed by the services' own code.
  local newswire="${CARGO_TARGET_DIR:-target}/debug/newswire" kind
  [[ -x "$newswire" ]] || cargo build --locked -p newswire --bin newswire
  rm -rf "$work/configs"
  python3 scripts/rendered-configs.py "$work/configs" "$work"/rendered/*.yaml
  for dir in "$work"/configs/*/; do
    kind=$(basename "$dir")
    if ! "$newswire" check-config -h | grep -q "possible values:.*\b$kind\b"; then
      echo "NOT CHECKED: newswire check-config has no kind '$kind' in this build" >&2
      continue
    fi
    "$newswire" check-config --kind "$kind" "$dir"*.yaml
  done
}
step "rendered configurations load in the services (newswire check-config)" check_configs

compose_configs() {
  # docker-compose configures the services by environment alone: load exactly that.
  local newswire="${CARGO_TARGET_DIR:-target}/debug/newswire" service environment
  : >"$work/empty.yaml"
  for service in fetcher cleaner deduper tagger alerter; do
    mapfile -t environment < <(python3 scripts/compose-matches-chart.py --env "$service")
    env -i PATH="$PATH" "${environment[@]}" "$newswire" check-config --kind "$service" "$work/empty.yaml"
  done
}
step "docker-compose environments load in the services (newswire check-config)" compose_configs

checkov_skips() {
  python3 - "$chart/checkov-skips.yaml" <<'PY'
import sys, yaml
skips = yaml.safe_load(open(sys.argv[1]))["skips"]
for skip in skips:
    if not str(skip.get("reason", "")).strip() or not str(skip.get("id", "")).startswith("CKV"):
        sys.exit(f"checkov-skips.yaml: every skip needs an id and a reason: {skip}")
print(",".join(skip["id"] for skip in skips))
PY
}
run_checkov() {
  local skips
  skips=$(checkov_skips)
  # --skip-download and BC_SKIP_MAPPING: no network (checkov would fetch guidelines).
  mkdir -p "$work/docker"
  cp Dockerfile "$work/docker/"
  BC_SKIP_MAPPING=TRUE checkov --compact --skip-download --framework kubernetes dockerfile \
    --directory "$work/rendered" --directory "$work/docker" --skip-check "$skips"
}
step "checkov (rendered manifests, Dockerfile)" run_checkov

compose_schema() {
  check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yaml
}
step "docker-compose.yaml against the compose-spec schema" compose_schema
step "docker-compose.yaml in step with the chart" python3 scripts/compose-matches-chart.py
step "chart README documents every value" python3 scripts/chart-values-doc.py --check

echo "helm-check: $passed passed, $failed failed" >&2
((failed == 0))
