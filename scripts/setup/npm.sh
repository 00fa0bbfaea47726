#!/usr/bin/env bash
# npm packages, reinstalled only when package-lock.json changed since the last install.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
marker=node_modules/.package-lock.json
if [[ -f "$marker" && "$marker" -nt package-lock.json ]]; then log "node_modules up to date"; exit 0; fi
log "npm ci"
npm ci --no-fund --no-audit --loglevel=error
