#!/usr/bin/env bash
# The pause image the node's pod sandboxes run (containerd's sandbox_image): pause.c built
# static, as a one-layer image in `docker save` format, made without docker. Cached in
# $SLUICE_CACHE/images/pause-<hash of pause.c and this script>.tar.
# Prints SLUICE_PAUSE_IMAGE=<ref> and SLUICE_PAUSE_ARCHIVE=<path>.
source "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
ref=localhost/pause:sluice
key=$(cat "$here/pause.c" "$here/pause.sh" | sha256sum | cut -c1-12)
archive="$SLUICE_IMAGES/pause-$key.tar"
if [[ ! -f "$archive" ]]; then
  log "building $ref"
  need_apt gcc=gcc /usr/include/stdio.h=libc6-dev
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/root" "$tmp/image"
  gcc -static -Os -s -o "$tmp/root/pause" "$here/pause.c"
  # Reproducible tars: sorted, owned by root, time 0.
  mktar() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$@"; }
  mktar "$tmp/layer.tar" -C "$tmp/root" pause
  layer=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  mkdir "$tmp/image/$layer"
  mv "$tmp/layer.tar" "$tmp/image/$layer/layer.tar"
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"scripts/image/pause.sh"}]}' \
    "$(oci_arch)" "$layer" >"$tmp/config.json"
  config=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
  mv "$tmp/config.json" "$tmp/image/$config.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config" "$ref" "$layer" >"$tmp/image/manifest.json"
  mktar "$tmp/archive.tar" -C "$tmp/image" manifest.json "$config.json" "$layer"
  mv "$tmp/archive.tar" "$archive"
fi
echo "SLUICE_PAUSE_IMAGE=$ref"
echo "SLUICE_PAUSE_ARCHIVE=$archive"
