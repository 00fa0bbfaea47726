#!/usr/bin/env bash
# The local stand-in for node:24-bookworm-slim the Dockerfile builds FROM where no registry
# is reachable: a minimal Debian root filesystem (mmdebstrap, from this machine's Debian
# mirror) with Node.js and npm in /usr/local, laid out as in the official image (node, npm,
# npx and the headers native addons build against). Cached as a rootfs tar in
# $SLUICE_CACHE/images/base-<key>.tar, the key hashing the suite, the mirrors, the Node.js
# folder's name (its version) and npm's version, and this script.
# Prints SLUICE_BASE_KEY=<key> and SLUICE_BASE_ROOTFS=<path>; with --key, builds nothing.
source "$(dirname "$0")/lib.sh"
here="$(cd "$(dirname "$0")" && pwd)"
SUITE="${SLUICE_BASE_SUITE:-bookworm}"

# This machine's Debian sources for the suite and its -updates/-security, as one-line entries.
mirrors() {
  {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^deb ' | sed -E 's/ \[[^]]*\]//' || true
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f "$f" ]] || continue
      awk '
        function flush(   i, j, ns, nu, S, U) {
          if (types ~ /(^| )deb( |$)/ && enabled != "no") {
            ns = split(suites, S, " "); nu = split(uris, U, " ")
            for (i = 1; i <= ns; i++) for (j = 1; j <= nu; j++) print "deb", U[j], S[i], comps
          }
          types = uris = suites = comps = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, ""); }
        key == "types" { types = $0 } key == "uris" { uris = $0 } key == "suites" { suites = $0 }
        key == "components" { comps = $0 } key == "enabled" { enabled = tolower($0) }
        END { flush() }' "$f"
    done
  } | awk -v s="$SUITE" '$2 ~ /\/debian(-security)?\/?$/ && ($3 == s || index($3, s "-") == 1)' | sort -u
}
mapfile -t MIRRORS < <(mirrors)
((${#MIRRORS[@]})) || MIRRORS=("deb http://deb.debian.org/debian $SUITE main")

node_prefix=$(bash "$here/../setup/node.sh" --prefix)
npm_version=$(cat "$node_prefix/.complete")
key=$(printf '%s\n' "$SUITE" "${MIRRORS[@]}" "$(basename "$node_prefix")" "$npm_version" "$(oci_arch)" "$(sha256sum <"$here/base.sh")" | sha256sum | cut -c1-12)
rootfs="$SLUICE_IMAGES/base-$key.tar"

if [[ "${1:-}" != --key && ! -f "$rootfs" ]]; then
  log "Debian $SUITE minbase + Node.js from $node_prefix (mmdebstrap: about a minute)"
  need_apt mmdebstrap=mmdebstrap
  start=$SECONDS
  # As Debian's -slim images: no manuals, docs (but the copyrights) or translations, in
  # this image and in what the Dockerfile installs on it.
  mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="tar -C $(printf %q "$node_prefix") -c bin include lib | tar -C \"\$1/usr/local\" -x --no-same-owner" \
    --customize-hook='chroot "$1" node --version >/dev/null' \
    "$SUITE" "$rootfs.tmp" "${MIRRORS[@]}" >&2
  mv "$rootfs.tmp" "$rootfs"
  log "base $key built in $((SECONDS - start)) s: $(du -h "$rootfs" | cut -f1)"
fi
echo "SLUICE_BASE_KEY=$key"
echo "SLUICE_BASE_ROOTFS=$rootfs"
