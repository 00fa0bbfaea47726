# Shared settings for the setup scripts. Caches live outside the repo so a fresh
# clone (CI) reuses what an earlier run built; everything still works from scratch.
set -euo pipefail
SLUICE_CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
SLUICE_BIN="$SLUICE_CACHE/bin"
mkdir -p "$SLUICE_BIN"
log() { printf '[setup] %s\n' "$*" >&2; }
