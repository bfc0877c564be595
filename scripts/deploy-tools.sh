#!/usr/bin/env bash
# Installs the tools the deployment checks need (scripts/helm-check.sh) into
# $NEWSWIRE_CACHE_DIR/deploy-tools, one directory per tool and version, each marked complete
# only after a full install, so a warm run does nothing and a stale cache cannot pass a check:
#   helm            built with `go install` from the Go module proxy
#   helm-unittest   built with `go install`, installed as a helm plugin by hand (plugin.yaml)
#   a Python venv   kubernetes-validate, checkov and check-jsonschema from PyPI
# Prints `export PATH=...; export HELM_PLUGINS=...` lines for the caller to eval.
set -euo pipefail

HELM_VERSION=v3.22.0
# The Kubernetes minor version helm assumes when no cluster is asked (helm template/lint
# capabilities, deprecation checks); helm's own Makefile sets it from its k8s.io modules
# (v0.37 in helm v3.22.0). Keep it equal to KUBERNETES_VERSION in scripts/helm-check.sh.
HELM_KUBERNETES_MINOR=37
HELM_UNITTEST_VERSION=v1.1.2
# Python tools, pinned; the venv directory is keyed by this list.
PY_REQUIREMENTS="kubernetes-validate==1.37.0 checkov==3.3.30 check-jsonschema==0.39.0"

cache="${NEWSWIRE_CACHE_DIR:-$HOME/.cache/newswire}/deploy-tools"
mkdir -p "$cache"
# Go's module and build caches live in the cache too, so a rebuild after a version bump is fast.
export GOMODCACHE="$cache/go-mod" GOCACHE="$cache/go-build" GOFLAGS=-mod=mod CGO_ENABLED=0

log() { echo "deploy-tools: $*" >&2; }

go_install() { # dir module@version [ldflags]
  local dir=$1 module=$2 ldflags=${3:-}
  [[ -f "$dir/.complete" ]] && return 0
  command -v go >/dev/null || { log "go is required to build $module"; exit 1; }
  log "building $module"
  rm -rf "$dir" "$dir.tmp"
  GOBIN="$dir.tmp" go install -ldflags "$ldflags" "$module"
  touch "$dir.tmp/.complete"
  mv "$dir.tmp" "$dir"
}

helm_dir="$cache/helm-$HELM_VERSION-k8s1.$HELM_KUBERNETES_MINOR"
go_install "$helm_dir" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "\
-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBERNETES_MINOR \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBERNETES_MINOR"

# helm-unittest as a plugin: a directory holding plugin.yaml and the binary it names. Its
# go.mod has replace directives, which `go install module@version` refuses: build it from the
# module's source (fetched from the Go module proxy) as the main module instead.
unittest_dir="$cache/helm-plugins-unittest-$HELM_UNITTEST_VERSION"
if [[ ! -f "$unittest_dir/unittest/.complete" ]]; then
  module=github.com/helm-unittest/helm-unittest@$HELM_UNITTEST_VERSION
  log "building $module"
  source_dir=$(go mod download -json "$module" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  build_dir=$(mktemp -d)
  cp -r "$source_dir/." "$build_dir"
  chmod -R u+w "$build_dir"
  rm -rf "$unittest_dir" "$unittest_dir.tmp"
  mkdir -p "$unittest_dir.tmp/unittest"
  (cd "$build_dir" && go build -trimpath -o "$unittest_dir.tmp/unittest/untt" ./cmd/helm-unittest)
  rm -rf "$build_dir"
  cat > "$unittest_dir.tmp/unittest/plugin.yaml" <<PLUGIN
name: unittest
version: "${HELM_UNITTEST_VERSION#v}"
usage: unittest for helm charts
description: Unit test for helm charts in YAML (built from the Go module).
ignoreFlags: false
command: "\$HELM_PLUGIN_DIR/untt"
PLUGIN
  touch "$unittest_dir.tmp/unittest/.complete"
  mv "$unittest_dir.tmp" "$unittest_dir"
fi

venv="$cache/venv-$(echo "$PY_REQUIREMENTS" | sha256sum | cut -c1-12)"
if [[ ! -f "$venv/.complete" ]]; then
  log "creating $venv ($PY_REQUIREMENTS)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $PY_REQUIREMENTS
  touch "$venv/.complete"
fi

echo "export PATH=\"$helm_dir:$venv/bin:\$PATH\" HELM_PLUGINS=\"$unittest_dir\""
