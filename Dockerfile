# localidp's container image: the release binary on a slim Debian 12, run as a
# non-root user, configured by LOCALIDP_* environment variables only, stopped with
# SIGTERM (graceful: see README "Stopping").
#
#   docker build -t localidp .                  builds the binary in a Rust stage
#   podman build --format docker --target prebuilt -t localidp .
#                                               takes target/release/localidp, built on a
#                                               Debian 12 host (cargo build --release)
#   --build-arg RUNTIME_IMAGE=<image>           another Debian 12 base, e.g. one made from
#                                               Debian's packages with mmdebstrap
#                                               (tests/container/run.sh does this)
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
RUN cargo build --release --locked --bin localidp

FROM ${RUNTIME_IMAGE} AS runtime-base
# curl for the health check; skipped when the base has it already.
RUN if ! command -v curl >/dev/null || [ ! -e /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ca-certificates curl \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && useradd --uid 10001 --user-group --home-dir /var/lib/localidp --create-home localidp \
 && mkdir -p /var/lib/localidp/data /var/lib/localidp/keys \
 && chown -R localidp:localidp /var/lib/localidp \
 && chmod 0700 /var/lib/localidp/keys
ENV LOCALIDP_HOST=0.0.0.0 \
    LOCALIDP_PORT=8080 \
    LOCALIDP_DATABASE_URL=sqlite:///var/lib/localidp/data/localidp.db \
    LOCALIDP_KEYS_DIR=/var/lib/localidp/keys
VOLUME ["/var/lib/localidp/data", "/var/lib/localidp/keys"]
EXPOSE 8080
USER 10001:10001
WORKDIR /var/lib/localidp
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${LOCALIDP_PORT:-8080}/healthz" >/dev/null || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/localidp"]
CMD ["serve"]

# The binary built on the host (a Debian 12 glibc): no Rust image needed.
FROM runtime-base AS prebuilt
COPY --chmod=0755 target/release/localidp /usr/local/bin/localidp

# The default target: the binary built in the Rust stage above.
FROM runtime-base AS runtime
COPY --from=build --chmod=0755 /src/target/release/localidp /usr/local/bin/localidp
