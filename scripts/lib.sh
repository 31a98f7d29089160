# Shared by scripts/up, down, demo, test. Sourced, not run.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${PILEHUB_BUILD_DIR:-$ROOT/build}"
DATA_DIR="${PILEHUB_DATA_DIR:-$ROOT/.data}"
MQTT_PORT="${PILEHUB_MQTT_PORT:-11883}"
MQTTS_PORT="${PILEHUB_MQTTS_PORT:-18883}"
HTTP_PORT="${PILEHUB_HTTP_PORT:-18080}"
OCPP_PORT="${PILEHUB_OCPP_PORT:-18090}"    # the OCPP gateway, ws:// (security profile 1)
OCPPS_PORT="${PILEHUB_OCPPS_PORT:-18453}"  # and wss:// (profile 2)
DEV="${PILEHUB_DEV:-0}" # development mode only when asked (scripts/demo asks)
RUN_DIR="$DATA_DIR/run"
LOG_DIR="$DATA_DIR/log"
CONF="$DATA_DIR/pilehub.conf"
# Daemons in start order; those not built yet are skipped.
DAEMONS=(presenced recorderd billingd sessiond autostopd parkingd pilehub-api pilehub-ocpp alertd otad)

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# PILEHUB_SKIP_BUILD=1: only install-deps; the programs of an existing build in BUILD_DIR are used as
# they are (the browser tests start the stack from a build made elsewhere, tests/browser/stack.mjs).
build() {
  "$ROOT/scripts/install-deps"
  [ "${PILEHUB_SKIP_BUILD:-0}" = "1" ] && return 0
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    # Check: -O1 without debug info, tests at -O0 (CMakeLists.txt); scripts/bench builds its own.
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Check >/dev/null
  fi
  local started
  started=$(date +%s)
  cmake --build "$BUILD_DIR" -j "$(nproc)" >"$BUILD_DIR.log" 2>&1 || { tail -30 "$BUILD_DIR.log" >&2; die "build failed (full log: $BUILD_DIR.log)"; }
  say "build: $BUILD_DIR up to date in $(( $(date +%s) - started )) s"
}

bin() { # path of a built program, or empty
  local p
  for p in "$BUILD_DIR/workers/$1/$1" "$BUILD_DIR/web-api/$1" "$BUILD_DIR/gateway/$1"; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 0
}

ctl() { "$(bin pilehubctl)" --config "$CONF" "$@"; }

# A process that has exited but is not reaped yet (a zombie: state Z after the name in /proc/PID/stat)
# is not alive; where the reaper is slow (a container's init), waiting for it cost seconds per daemon.
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  [ "${st%% *}" != "Z" ]
}

# stop_pidfile NAME: stops the process recorded in run/NAME.pid (one we started), TERM then KILL.
stop_pidfile() {
  local f="$RUN_DIR/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f" "$RUN_DIR/$1.ready"
}

monitor_password() { cat "$DATA_DIR/secrets/svc.monitor.pass"; }
