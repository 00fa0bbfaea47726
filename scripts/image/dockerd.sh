# Sourced by build.sh: a private dockerd (Debian's docker.io) for the duration of one build.
# Its layers live in $SLUICE_CACHE/docker and persist between builds; its sockets, pid file
# and the containerd it starts live in a fresh /tmp folder; it touches no iptables rules and
# makes no bridge (builds use the host's network). start_dockerd sets DOCKER_HOST for the
# `docker` client and stops the daemon, by its pid, when the script exits.
DOCKERD_PID=""
DOCKERD_RUN=""
DOCKERD_MADE_RUN_DOCKER=""

stop_dockerd() {
  [[ -n "$DOCKERD_PID" ]] || return 0
  local containerd_pid
  containerd_pid=$(cat "$DOCKERD_RUN/exec/containerd/containerd.pid" 2>/dev/null || true)
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    log "dockerd did not stop in 30 s; killing it"
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
  fi
  wait "$DOCKERD_PID" 2>/dev/null || true
  # dockerd stops the containerd it started; if it was killed, that one is left over.
  if [[ -n "$containerd_pid" ]] && kill -0 "$containerd_pid" 2>/dev/null; then
    kill -TERM "$containerd_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$containerd_pid" 2>/dev/null || true
  fi
  DOCKERD_PID=""
  # dockerd leaves its default network namespace mounted under its exec root.
  awk -v d="$DOCKERD_RUN/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  rm -rf "$DOCKERD_RUN" || log "could not remove $DOCKERD_RUN"
  # It also makes /run/docker/plugins, whatever its exec root: gone if it was not there.
  if [[ -n "$DOCKERD_MADE_RUN_DOCKER" ]]; then rmdir /run/docker/plugins /run/docker 2>/dev/null || true; fi
}

start_dockerd() {
  local data="$SLUICE_CACHE/docker" logfile="$SLUICE_IMAGES/dockerd.log"
  DOCKERD_RUN=$(mktemp -d /tmp/sluice-dockerd.XXXXXX)
  mkdir -p "$data" "$DOCKERD_RUN/exec" "$DOCKERD_RUN/client"
  # Its trust key would default to /etc/docker/key.json (a config-file setting only).
  printf '{"deprecated-key-path": "%s/key.json"}\n' "$data" >"$DOCKERD_RUN/daemon.json"
  [[ -e /run/docker ]] || DOCKERD_MADE_RUN_DOCKER=1
  trap stop_dockerd EXIT
  trap 'exit 130' INT TERM
  # --oom-score-adjust=0: dockerd's default (-500) is refused without CAP_SYS_RESOURCE (this VM).
  # It gets none of this shell's other descriptors (build.sh's lock).
  dockerd --data-root "$data" --exec-root "$DOCKERD_RUN/exec" --pidfile "$DOCKERD_RUN/docker.pid" \
    -H "unix://$DOCKERD_RUN/docker.sock" --config-file "$DOCKERD_RUN/daemon.json" \
    --iptables=false --ip-masq=false --ip-forward=false --bridge=none --oom-score-adjust=0 \
    --log-level=warn >"$logfile" 2>&1 9>&- &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$DOCKERD_RUN/docker.sock" DOCKER_CONFIG="$DOCKERD_RUN/client"
  for _ in $(seq 1 120); do
    if docker version >/dev/null 2>&1; then return 0; fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  log "dockerd did not start; the end of $logfile:"
  tail -20 "$logfile" >&2
  return 1
}

# Debian's docker.io client (20.10) matches its dockerd and has the legacy builder; a newer
# client elsewhere on PATH may not.
docker() { if [[ -x /usr/bin/docker ]]; then /usr/bin/docker "$@"; else command docker "$@"; fi; }
