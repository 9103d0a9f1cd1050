# localidp: build a static-enough release binary, run it on a slim Debian.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
RUN cargo build --release --locked --bin localidp

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/localidp --create-home localidp
COPY --from=build /src/target/release/localidp /usr/local/bin/localidp
USER localidp
WORKDIR /var/lib/localidp
ENV LOCALIDP_HOST=0.0.0.0 \
    LOCALIDP_PORT=8080 \
    LOCALIDP_DATABASE_URL=sqlite:///var/lib/localidp/data/localidp.db \
    LOCALIDP_KEYS_DIR=/var/lib/localidp/keys
VOLUME ["/var/lib/localidp"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["localidp"]
CMD ["serve"]
