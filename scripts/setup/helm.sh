#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy into $SLUICE_BIN, so tests can lint, render
# and install charts/sluice (helm is not in Debian). v3.22 needs Go >= 1.26.
source "$(dirname "$0")/lib.sh"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
stamp="$SLUICE_BIN/.helm-$HELM_VERSION"
if [[ -f "$stamp" && -x "$SLUICE_BIN/helm" ]]; then log "helm $HELM_VERSION already built"; exit 0; fi
log "building helm $HELM_VERSION (first time: a few minutes)"
# `go install pkg@version` builds the module exactly as released (its own go.sum), outside any
# wrapper module. The version is stamped in by -X, as helm's own Makefile does.
GOBIN="$SLUICE_BIN" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" \
  go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
built="$("$SLUICE_BIN/helm" version --short)"
if [[ "$built" != "$HELM_VERSION"* ]]; then
  log "the built helm reports '$built', not $HELM_VERSION: has helm.sh/helm/v3/internal/version moved?"
  exit 1
fi
# Only the stamp of the binary now in place may remain, or switching versions back would
# trust a stale stamp.
rm -f "$SLUICE_BIN"/.helm-*
touch "$stamp"
log "built helm $HELM_VERSION in ${SECONDS}s"
