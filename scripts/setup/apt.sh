#!/usr/bin/env bash
# Debian packages: ClickHouse (the real server, 18.16 in bookworm), kcat (a librdkafka
# client, proof that non-JS clients interoperate), what the testbed's node runs on
# (containerd, runc, the CNI plugins, nftables for kube-proxy, openssl for its PKI) and
# what `make image` builds with (mmdebstrap, docker.io), and what the unit tests check the
# shipped Argo CD health checks (lua5.4) and alert rules (promtool, from prometheus) with,
# and the terminal `sluice top`'s integration test runs it in (tmux).
# Skips apt when all are present.
source "$(dirname "$0")/lib.sh"
need=()
command -v clickhouse-server >/dev/null || need+=(clickhouse-server clickhouse-client)
command -v kcat >/dev/null || need+=(kcat)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
command -v nft >/dev/null || need+=(nftables)
command -v openssl >/dev/null || need+=(openssl)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v dockerd >/dev/null || need+=(docker.io)
command -v lua5.4 >/dev/null || need+=(lua5.4)
command -v promtool >/dev/null || need+=(prometheus)
command -v tmux >/dev/null || need+=(tmux)
if ((${#need[@]} == 0)); then log "Debian packages present"; exit 0; fi
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
log "apt-get install ${need[*]}"
$sudo apt-get update -qq
# The packages would start system-wide servers (ClickHouse, containerd, dockerd, Prometheus); the
# testbed and `make image` run their own.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
