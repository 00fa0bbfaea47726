#!/usr/bin/env bash
# Imports image archives (`docker save` format) into a containerd's k8s.io namespace, where
# the kubelet's CRI finds them: scripts/image/load.sh <containerd-socket> <archive>...
# An archive whose image is already there, imported from that same archive, is skipped.
source "$(dirname "$0")/lib.sh"
(($# >= 2)) || { echo "usage: $0 <containerd-socket> <archive>..." >&2; exit 2; }
address="$1"; shift
ctr=(ctr --address "$address" --namespace k8s.io)
for archive in "$@"; do
  ref=$(tar -xOf "$archive" manifest.json | sed -nE 's/.*"RepoTags":\["([^"]+)".*/\1/p')
  [[ -n "$ref" ]] || { log "$archive: no image name in manifest.json"; exit 1; }
  # The label names the archive, whose file name carries its inputs' hash.
  label="sluice.dev/archive=$(basename "$archive")"
  if "${ctr[@]}" images ls "name==$ref" 2>/dev/null | grep -qF "$label"; then
    log "$ref already loaded"
    continue
  fi
  log "importing $ref from $archive"
  "${ctr[@]}" images import "$archive" >/dev/null
  "${ctr[@]}" images label "$ref" "$label" >/dev/null
done
