# Shared settings for the image scripts. Their results are cached in $SLUICE_CACHE/images,
# keyed by their inputs; logs go to stderr and results to stdout as KEY=value lines.
set -euo pipefail
SLUICE_CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
SLUICE_IMAGES="$SLUICE_CACHE/images"
mkdir -p "$SLUICE_IMAGES"
log() { printf '[image] %s\n' "$*" >&2; }
# Docker's and OCI's name for this machine's architecture.
oci_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) uname -m ;;
  esac
}
# Installs the missing Debian packages: need_apt <command or file>=<package>...
need_apt() {
  local missing=() pair sudo=""
  for pair in "$@"; do
    [[ -e "${pair%%=*}" ]] || command -v "${pair%%=*}" >/dev/null || missing+=("${pair#*=}")
  done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
