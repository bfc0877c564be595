#!/usr/bin/env bash
# The Helm chart ships files that live under deploy/ (Helm cannot read files outside the chart
# directory): it keeps byte-identical copies in helm/newswire/files/. deploy/ is the source of
# truth; this script copies it over the chart's copies, and `--check` (run by
# scripts/helm-check.sh in CI) fails when a copy differs, naming the file.
set -euo pipefail
cd "$(dirname "$0")/.."

# source under deploy/  ->  copy under helm/newswire/files/
pairs=(
  "deploy/feeds.yaml helm/newswire/files/feeds.yaml"
  "deploy/taxonomy.yaml helm/newswire/files/taxonomy.yaml"
  "deploy/gazetteer/countries.yaml helm/newswire/files/gazetteer/countries.yaml"
  "deploy/gazetteer/people.yaml helm/newswire/files/gazetteer/people.yaml"
  "deploy/gazetteer/organisations.yaml helm/newswire/files/gazetteer/organisations.yaml"
  "deploy/prometheus/newswire.rules.yaml helm/newswire/files/newswire.rules.yaml"
  "deploy/grafana/newswire.json helm/newswire/files/newswire.json"
)

check=false
[[ "${1:-}" == "--check" ]] && check=true
stale=0
for pair in "${pairs[@]}"; do
  read -r source copy <<<"$pair"
  if $check; then
    if ! cmp -s "$source" "$copy"; then
      echo "sync-deploy-files: $copy differs from $source; run scripts/sync-deploy-files.sh" >&2
      stale=1
    fi
  else
    mkdir -p "$(dirname "$copy")"
    cp "$source" "$copy"
  fi
done
exit "$stale"
