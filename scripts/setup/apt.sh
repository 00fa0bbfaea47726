#!/usr/bin/env bash
# Debian packages: ClickHouse (the real server, 18.16 in bookworm) and kcat (a librdkafka
# client, proof that non-JS clients interoperate). Skips apt entirely when both are present.
source "$(dirname "$0")/lib.sh"
need=()
command -v clickhouse-server >/dev/null || need+=(clickhouse-server clickhouse-client)
command -v kcat >/dev/null || need+=(kcat)
if ((${#need[@]} == 0)); then log "clickhouse-server and kcat present"; exit 0; fi
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
log "apt-get install ${need[*]}"
$sudo apt-get update -qq
# The package would start a system-wide server; the testbed runs its own per test run.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
