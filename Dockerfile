# Switchboard gateway image (Debian 12). Builds only the gateway; functions-runtime, samples and tests
# are not part of the image.
#
#   docker build -t switchboard .
#   docker run -p 8080:8080 -e SWITCHBOARD_ACCESS_KEY=... -e SWITCHBOARD_UPSTREAM=http://fn:7071/upstream switchboard

# ---- build -------------------------------------------------------------------------------------------
FROM debian:12 AS build

# The build dependencies of scripts/setup.sh, minus the test/browser tooling. Boost 1.81 by name:
# libboost-dev is 1.74 and conflicts with it. doctest is not needed with tests off, but it is small.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The release preset's build type (-O2 -g), gateway target only. The debug info (~47 MB of the 50 MB
# binary) is stripped for the image; the symbol table stays, so backtraces still name functions.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSB_BUILD_SAMPLES=OFF -DSB_BUILD_TESTS=OFF \
 && cmake --build build --target switchboard \
 && strip --strip-debug build/bin/switchboard \
 && build/bin/switchboard --version

# ---- runtime -----------------------------------------------------------------------------------------
FROM debian:12-slim

# libssl3 for OpenSSL (HMAC, TLS to functions and Redis); ca-certificates is the trust store for
# https:// functions and rediss://; curl only for the health check. libstdc++ and libgcc are already
# in the base image.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin switchboard

COPY --from=build /src/build/bin/switchboard /usr/local/bin/switchboard

ENV SWITCHBOARD_LISTEN=0.0.0.0:8080
EXPOSE 8080

# Anonymous health endpoint; follows the port of SWITCHBOARD_LISTEN (8080 unless overridden).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD port="${SWITCHBOARD_LISTEN##*:}"; curl -fsS -o /dev/null "http://127.0.0.1:${port:-8080}/api/v1/health" || exit 1

USER switchboard
# SIGTERM drains connections for up to --shutdown-timeout (30 s): use `docker stop -t 35`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/switchboard"]
