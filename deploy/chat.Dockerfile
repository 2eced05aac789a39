# The chat sample (samples/chat) as an image, for deploy/compose.yaml. From the repository root:
#
#   docker build -f deploy/chat.Dockerfile -t switchboard-chat .
#   docker run -p 7071:7071 -e SWITCHBOARD_CONNECTION_STRING="Endpoint=http://localhost;Port=8080;AccessKey=...;Version=1.0;" switchboard-chat
#
# A sample, not a product: its sign-in believes any name (samples/chat/README.md).

# ---- @microsoft/signalr for the page, at the version package-lock.json pins ----------------------------
FROM node:20-bookworm-slim AS signalr
WORKDIR /npm
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build -------------------------------------------------------------------------------------------
FROM debian:12 AS build

# As the gateway's Dockerfile: the whole project is configured, only chat-sample is built.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev doctest-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSB_BUILD_TESTS=OFF \
 && cmake --build build --target chat-sample \
 && strip --strip-debug build/bin/chat-sample

# ---- runtime -----------------------------------------------------------------------------------------
FROM debian:12-slim

# libcpp-httplib0.11 (functions-runtime's HTTP server) and libssl3 (HMAC).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl3 libcpp-httplib0.11 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin chat

COPY --from=build /src/build/bin/chat-sample /usr/local/bin/chat-sample
COPY samples/chat/public /usr/share/chat-sample/public
COPY --from=signalr /npm/node_modules/@microsoft/signalr/dist/browser/signalr.min.js /usr/share/chat-sample/signalr.min.js

EXPOSE 7071
USER chat
ENTRYPOINT ["/usr/local/bin/chat-sample", "--listen", "0.0.0.0:7071", \
            "--public-dir", "/usr/share/chat-sample/public", "--signalr-js", "/usr/share/chat-sample/signalr.min.js"]
