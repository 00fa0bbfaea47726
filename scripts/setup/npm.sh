#!/usr/bin/env bash
# npm packages, reinstalled only when package-lock.json changed since the last install.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
marker=node_modules/.package-lock.json
if [[ -f "$marker" && "$marker" -nt package-lock.json ]]; then log "node_modules up to date"; exit 0; fi
# Confluent's Kafka client (librdkafka) is built from source, linked to Debian's zstd,
# lz4, SASL, OpenSSL and curl (toolchains.sh installs their -dev packages): its default
# install downloads a prebuilt binary or bundled dependencies, which this machine cannot.
export CKJS_LINKING=dynamic npm_config_build_from_source=true
log "npm ci (builds librdkafka: about 2 minutes on 2 cores)"
npm ci --no-fund --no-audit --loglevel=error
node -e 'require("@confluentinc/kafka-javascript")' || { log "the Kafka client's native addon does not load"; exit 1; }
