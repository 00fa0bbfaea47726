#!/usr/bin/env bash
# The toolchains the other setup steps use. A polyglot machine has most of them; on a bare
# Debian machine this installs Java and Maven from apt, and Go from apt with the module
# proxy supplying the newer toolchain that Kubernetes needs (GOTOOLCHAIN=auto), plus the
# compiler and -dev libraries the Kafka client's native addon is built with.
source "$(dirname "$0")/lib.sh"
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
need=()
command -v java >/dev/null || need+=(default-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v go >/dev/null || need+=(golang-go)
command -v curl >/dev/null || need+=(curl)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v patch >/dev/null || need+=(patch)
# librdkafka (the Kafka client, built by npm.sh) links these dynamically.
for dev in zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libssl-dev libcurl4-openssl-dev; do
  dpkg -s "$dev" >/dev/null 2>&1 || need+=("$dev")
done
if ((${#need[@]})); then
  log "apt-get install ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 24)); then
  log "Node.js >= 24 is required (found: $(node --version 2>/dev/null || echo none)); scripts/setup/node.sh installs it"
  exit 1
fi
