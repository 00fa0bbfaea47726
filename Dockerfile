# The one Sluice image: the operator (`operator ...`) and every worker it deploys
# (`worker sink|aggregation|collector --config ...`) run the same compiled CLI.
#
#   docker build -t sluice .
#
# BASE is any Debian bookworm image with Node.js 24 in /usr/local (node, npm and the headers
# in include/node), as the official node image has; `make image` passes a local one.
ARG BASE=node:24-bookworm-slim

# Production node_modules. Confluent's Kafka client builds librdkafka from source, linked
# to Debian's libraries (as scripts/setup/npm.sh does), against the base's Node headers,
# with Sluice's patch to its consume and produce paths (patches/README.md): installed
# without scripts, patched, then built.
FROM ${BASE} AS deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ make patch python3 pkg-config zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libssl-dev libcurl4-openssl-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches patches
# PEM text of extra CA certificates, for a build behind a TLS-intercepting proxy. Used by
# npm in the build stages only; it is not in the final image.
ARG BUILD_CA_CERTS=""
ENV CKJS_LINKING=dynamic npm_config_build_from_source=true npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false
RUN if [ -n "$BUILD_CA_CERTS" ]; then printf '%s\n' "$BUILD_CA_CERTS" >/tmp/ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/ca.pem; fi \
 && npm ci --omit=dev --no-audit --no-fund --loglevel=error --ignore-scripts \
 && v=$(node -p 'require("./node_modules/@confluentinc/kafka-javascript/package.json").version') \
 && patch -p1 -d node_modules/@confluentinc/kafka-javascript <"patches/@confluentinc+kafka-javascript+$v.patch" \
 && npm rebuild --no-audit --no-fund --loglevel=error \
 && rm -rf /tmp/ca.pem /root/.npm
# Of the client's build only the addon and the shared librdkafka it finds by rpath load at
# run time; the librdkafka sources and objects (about 280 MB) go. The build must have found
# every library: librdkafka leaves out a codec whose -dev package is missing.
RUN set -e; k=node_modules/@confluentinc/kafka-javascript; \
    mkdir -p /tmp/keep/Release /tmp/keep/deps; \
    cp -a "$k"/build/Release/*.node /tmp/keep/Release/; \
    cp -a "$k"/build/deps/librdkafka*.so* /tmp/keep/deps/; \
    rm -rf "$k/build" "$k/deps"; mv /tmp/keep "$k/build"; \
    node -e 'const f = require("@confluentinc/kafka-javascript").features; \
      const missing = ["gzip", "snappy", "lz4", "zstd", "ssl", "sasl_scram", "sasl_oauthbearer"].filter((x) => !f.includes(x)); \
      if (missing.length) throw new Error("librdkafka built without " + missing.join(", "));'

# dist/: the TypeScript compiled. Dev dependencies without install scripts or optional
# (platform) packages: tsc needs none of them.
FROM ${BASE} AS compile
WORKDIR /app
ENV npm_config_update_notifier=false
COPY package.json package-lock.json ./
ARG BUILD_CA_CERTS=""
RUN if [ -n "$BUILD_CA_CERTS" ]; then printf '%s\n' "$BUILD_CA_CERTS" >/tmp/ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/ca.pem; fi \
 && npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error \
 && rm -rf /tmp/ca.pem /root/.npm
COPY tsconfig.json tsconfig.build.json ./
COPY api api
COPY operator operator
COPY runtime runtime
COPY cli cli
RUN node_modules/.bin/tsc -p tsconfig.build.json

FROM ${BASE}
# The shared libraries librdkafka links, and CA certificates for TLS to Kafka and ClickHouse.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates zlib1g libzstd1 liblz4-1 libsasl2-2 libssl3 libcurl4 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=compile /app/dist dist
COPY bin bin
ENV NODE_ENV=production
# The chart and the worker Deployments run as 65532 with a read-only root filesystem; the
# CLI writes nothing outside what they mount.
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
