#!/usr/bin/env bash
# `make image`: builds the Dockerfile on this machine, without a registry, into a
# `docker save` archive at $SLUICE_CACHE/images/sluice-<key>.tar, image localhost/sluice:<key>.
# The key hashes every input: the Dockerfile, .dockerignore, package*.json, tsconfig*.json,
# the source files under api, operator, runtime, cli and bin and the patches as they are on disk (uncommitted
# changes and new files included, tests not), and the base image's key. An archive already
# built for that key is the result: no daemon starts.
# Otherwise: the local base (base.sh) is imported into a private dockerd (dockerd.sh) and the
# Dockerfile built with the legacy builder on the host's network (apt and npm reach the
# package mirrors). Prints SLUICE_IMAGE=<ref> and SLUICE_IMAGE_ARCHIVE=<path>.
source "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

eval "$(bash "$here/base.sh" --key)"
inputs() {
  git ls-files --cached --others --exclude-standard -- Dockerfile .dockerignore package.json package-lock.json \
    'tsconfig*.json' api operator runtime cli bin patches | grep -vE '\.test\.ts$|\.md$' | sort -u |
    while read -r f; do [[ -f "$f" ]] && echo "$f"; done
}
mapfile -t files < <(inputs)
key=$( {
  echo "base $SLUICE_BASE_KEY"
  paste -d' ' <(printf '%s\n' "${files[@]}" | git hash-object --stdin-paths) <(printf '%s\n' "${files[@]}")
} | sha256sum | cut -c1-12)
ref="localhost/sluice:$key"
archive="$SLUICE_IMAGES/sluice-$key.tar"

if [[ -f "$archive" ]]; then
  log "$ref is built (inputs unchanged)"
else
  # One build at a time per cache: they would share the daemon's data root.
  exec 9>"$SLUICE_IMAGES/.build.lock"
  flock 9
fi
if [[ ! -f "$archive" ]]; then
  start=$SECONDS
  eval "$(bash "$here/base.sh")"
  base="localhost/sluice-base:$SLUICE_BASE_KEY"
  need_apt dockerd=docker.io
  source "$here/dockerd.sh"
  start_dockerd
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    log "importing $base"
    docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["node"]' "$SLUICE_BASE_ROOTFS" "$base" >/dev/null
  fi
  # The CA certificates this machine adds to Debian's (a TLS-intercepting proxy before the
  # registry, say) are npm's in the build stages too.
  ca=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)
  log "building $ref (about 3 minutes when the packages changed: apt, npm and librdkafka)"
  DOCKER_BUILDKIT=0 docker build --network host --build-arg "BASE=$base" --build-arg "BUILD_CA_CERTS=$ca" \
    --tag "$ref" . >"$SLUICE_IMAGES/build.log" 2>&1 || {
    log "docker build failed; the end of $SLUICE_IMAGES/build.log:"
    tail -30 "$SLUICE_IMAGES/build.log" >&2
    exit 1
  }
  docker save --output "$archive.tmp" "$ref"
  chmod 644 "$archive.tmp"
  mv "$archive.tmp" "$archive"
  # Older tags go; their layers stay as the next build's cache (--no-prune).
  for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' localhost/sluice); do
    [[ "$old" == "$ref" ]] || docker rmi --no-prune "$old" >/dev/null || true
  done
  stop_dockerd
  # Keep the three newest archives, and only the current base.
  for old in $(ls -t "$SLUICE_IMAGES"/sluice-*.tar | tail -n +4) "$SLUICE_IMAGES"/base-*.tar; do
    [[ "$old" == "$SLUICE_BASE_ROOTFS" ]] || rm -f "$old"
  done
  log "built $ref in $((SECONDS - start)) s: $(du -h "$archive" | cut -f1)"
fi
echo "SLUICE_IMAGE=$ref"
echo "SLUICE_IMAGE_ARCHIVE=$archive"
