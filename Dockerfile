# matters in a container: `docker build -t matters .` then
#   docker run -p 8080:8080 -v matters-data:/var/lib/matters -e MATTERS_CENTRE_NAME="…" matters
# The data (the SQLite database) lives in the volume; configuration comes from MATTERS_* and
# TWILIO_*/TELEGRAM_* variables, or a file mounted at /etc/matters/matters.toml.

FROM rust:1-slim-trixie AS build
WORKDIR /src
# No repository in the build context: the commit comes in as an argument.
ARG MATTERS_COMMIT=unknown
ENV MATTERS_COMMIT=${MATTERS_COMMIT}
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY migrations migrations
COPY flows flows
COPY locales locales
RUN cargo build --release --locked && strip target/release/matters

FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system matters \
 && useradd --system --gid matters --home-dir /var/lib/matters --shell /usr/sbin/nologin matters \
 && install -d -m 0700 -o matters -g matters /var/lib/matters
COPY --from=build /src/target/release/matters /usr/bin/matters
COPY --from=build /src/flows /usr/share/matters/flows
COPY --from=build /src/locales /usr/share/matters/locales
USER matters
WORKDIR /var/lib/matters
ENV MATTERS_DATABASE_URL=sqlite:///var/lib/matters/matters.db \
    MATTERS_LISTEN=0.0.0.0:8080 \
    MATTERS_FLOWS_DIR=/usr/share/matters/flows \
    MATTERS_LOCALES_DIR=/usr/share/matters/locales \
    MATTERS_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/matters"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/matters"]
CMD ["serve"]
