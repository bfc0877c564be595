# syntax=docker/dockerfile:1.7
#
# One image with every newswire binary: fetcher, cleaner, deduper, tagger, alerter (when the
# workspace has it) and the newswire CLI (topic creation, standalone mode). Each Deployment or
# compose service picks its binary as the container command, so one build serves the whole
# pipeline. Build (BuildKit, from the repository root):
#
#   docker build -t newswire:dev \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#
# The runtime stage is distroless (glibc, OpenSSL, CA certificates, no shell, no package
# manager) and runs as the non-root user 65532; nothing is written to the root filesystem,
# so it runs with a read-only root filesystem.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM docker.io/library/rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
# librdkafka is compiled from source by the rdkafka crate: it needs a C toolchain, cmake,
# pkg-config and the OpenSSL headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The cache mounts keep the crate registry and the target directory between builds; the
# binaries are copied out of the cached target directory within the same step, together with
# the shared libraries that the distroless base lacks (zlib; glibc, libgcc and OpenSSL come
# with it).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace --bins \
 && mkdir -p /out/bin /out/lib \
 && find target/release -maxdepth 1 -type f -executable -exec cp {} /out/bin/ \; \
 && for bin in fetcher cleaner deduper tagger newswire; do test -x "/out/bin/$bin"; done \
 && ldd /out/bin/* | awk '/=> \// { print $3 }' | sort -u \
    | grep -Ev '/(libc|libm|libdl|librt|libpthread|libgcc_s|libssl|libcrypto|ld-linux[^/]*)\.so' \
    | xargs -r -I{} cp -L {} /out/lib/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="newswire" \
      org.opencontainers.image.description="News feeds in, a clean, deduplicated, topic-tagged stream of JSON records on Kafka out." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=build /out/lib/ /usr/local/lib/newswire/
COPY --from=build /out/bin/ /usr/local/bin/
# Defaults for a first run (feeds_file / taxonomy_file point here in the chart and compose
# configurations, which mount their own files over these).
COPY deploy/feeds.yaml /etc/newswire/feeds/feeds.yaml
COPY deploy/taxonomy.yaml /etc/newswire/taxonomy/taxonomy.yaml
ENV LD_LIBRARY_PATH=/usr/local/lib/newswire
USER 65532:65532
EXPOSE 9464
# No HEALTHCHECK: there is no shell or HTTP client in the image; orchestrators probe
# /healthz and /readyz on port 9464 (Kubernetes probes, compose healthchecks are not used).
HEALTHCHECK NONE
ENTRYPOINT []
CMD ["/usr/local/bin/newswire", "--help"]
