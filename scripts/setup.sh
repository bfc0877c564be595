#!/usr/bin/env bash
# What the tests need that a fresh machine may lack, checked (and, as root, installed) before
# anything runs, so that `make test` alone works on a new machine:
#   - Debian packages: kcat (the tests read topics with it), promtool (package `prometheus`,
#     the alert rules' checks), and what the rdkafka crate builds librdkafka with;
#   - a Rust toolchain with rustfmt and clippy, Java 17+ and Maven (the test broker), Go (helm
#     is built from the Go module proxy by scripts/deploy-tools.sh).
# Without root it says in one line what is missing and how to install it, and fails.
set -euo pipefail

packages=(kcat libssl-dev pkg-config build-essential cmake curl)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v promtool >/dev/null || missing+=(prometheus)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

need() { # command what-to-install
  command -v "$1" >/dev/null || { echo "setup: $1 is missing; $2" >&2; exit 1; }
}
need cargo "install Rust 1.85 or newer (https://rustup.rs)"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
need java "install Java 17 or newer (Debian: openjdk-17-jre-headless)"
need mvn "install Maven (Debian: maven)"
need go "install Go (Debian: golang-go)"
