# wikitok container image: build with the locked dependency set, run as a
# non-root user from a small Debian image with CA certificates (remote inputs).
#
#   docker build -t wikitok:0.1.0 .
#   docker run --rm wikitok:0.1.0 run /sql/tokenize.sql        # the embedded sample
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ make pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
# What the crate compiles in (include_str!): template data, the SQL library.
COPY data/templates ./data/templates
COPY sql ./sql
RUN cargo build --release --locked --bin wikitok \
    && strip target/release/wikitok

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --create-home --home-dir /home/wikitok wikitok
COPY --from=build /src/target/release/wikitok /usr/local/bin/wikitok
COPY sql /sql
# The default --input (data/samples) resolves from here; the default
# tokenizer (cl100k_base) is built into the binary.
COPY data/samples /opt/wikitok/data/samples
WORKDIR /opt/wikitok
USER 10001:10001
ENTRYPOINT ["wikitok"]
CMD ["run", "/sql/tokenize.sql", "--output", "/tmp/out"]
