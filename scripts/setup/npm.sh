#!/usr/bin/env bash
# npm packages, reinstalled only when package-lock.json changed since the last install.
#
# Confluent's Kafka client (librdkafka) is built from source, linked to Debian's zstd,
# lz4, SASL, OpenSSL and curl (toolchains.sh installs their -dev packages): its default
# install downloads a prebuilt binary or bundled dependencies, which this machine cannot.
# The build takes about 2 minutes, so its result (the addon and librdkafka's shared
# libraries) is cached in $SLUICE_CACHE, keyed by the client's version, Node's ABI, the
# architecture, the versions of the libraries it links and Sluice's patch to it
# (patches/README.md): the package is installed without its build, patched, then built.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
# node_modules is current when installed after the lock's last change, by this Node's ABI,
# with the Kafka client's patch as it is now.
abi=$(node -p process.versions.modules)
version=$(node -p 'require("./package-lock.json").packages["node_modules/@confluentinc/kafka-javascript"].version')
patch_file="patches/@confluentinc+kafka-javascript+$version.patch"
[[ -f "$patch_file" ]] || { log "no patch for the Kafka client $version: $patch_file (patches/README.md)"; exit 1; }
patched=$(sha1sum "$patch_file" | cut -c1-12)
marker=node_modules/.package-lock.json
if [[ -f "$marker" && "$marker" -nt package-lock.json && "$(cat node_modules/.sluice-node-abi 2>/dev/null)" == "$abi-p$patched" ]]; then
  log "node_modules up to date"; exit 0
fi
# node-gyp compiles against the running Node's own headers (it would download them otherwise).
nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
[[ -f "$nodedir/include/node/node.h" ]] && export npm_config_nodedir="$nodedir"

client=node_modules/@confluentinc/kafka-javascript
libs=$(dpkg-query -W -f='${Package}=${Version},' zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libssl-dev libcurl4-openssl-dev 2>/dev/null | sha1sum | cut -c1-12)
cached="$SLUICE_CACHE/kafka-javascript/$version-abi$abi-$(uname -m)-$libs-p$patched"
# The client's sources as Sluice builds them. patch(1) is from toolchains.sh.
apply_patch() { patch --quiet --forward -p1 -d "$client" <"$patch_file"; }

loads() { node -e 'require("@confluentinc/kafka-javascript")' >/dev/null 2>&1; }

if [[ -f "$cached/.complete" ]]; then
  log "npm ci (the Kafka client's native build comes from $cached)"
  npm ci --no-fund --no-audit --loglevel=error --ignore-scripts
  apply_patch
  # The other packages' install scripts still run; only the client's build is skipped.
  others=$(npm query ':attr(scripts, [install]), :attr(scripts, [postinstall]), :attr(scripts, [preinstall])' |
    node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).map((p) => p.name).filter((n) => n !== "@confluentinc/kafka-javascript").join(" "))')
  [[ -z "$others" ]] || npm rebuild --no-fund --no-audit --loglevel=error $others
  mkdir -p "$client/build"
  cp -a "$cached/Release" "$cached/deps" "$client/build/"
  loads || { log "the cached Kafka client build does not load; building it again"; rm -rf "$cached"; }
fi
if [[ ! -f "$cached/.complete" ]]; then
  export CKJS_LINKING=dynamic npm_config_build_from_source=true
  log "npm ci (builds librdkafka: about 2 minutes on 2 cores)"
  npm ci --no-fund --no-audit --loglevel=error --ignore-scripts
  apply_patch
  # Every package's install scripts, the client's build among them, on the patched sources.
  npm rebuild --no-fund --no-audit --loglevel=error
  loads || { log "the Kafka client's native addon does not load: $(node -e 'require("@confluentinc/kafka-javascript")' 2>&1 | tail -1)"; exit 1; }
  # Only what loads at run time: the addon, and the shared librdkafka it finds by rpath.
  rm -rf "$cached" && mkdir -p "$cached/Release" "$cached/deps"
  cp -a "$client"/build/Release/*.node "$cached/Release/"
  cp -a "$client"/build/deps/librdkafka*.so* "$cached/deps/"
  touch "$cached/.complete"
fi
echo "$abi-p$patched" >node_modules/.sluice-node-abi
