#!/usr/bin/env bash
# Idempotent set-up of a development or CI machine (Debian 12).
#
#   1. RabbitMQ: `apt-get install rabbitmq-server` when it is missing (root only).
#   2. uv: `pip install uv` into the user's/system Python when it is missing.
#   3. .venv: `uv sync --frozen` (runtime + dev group, which carries nx-27017,
#      the embedded MongoDB-compatible store) exactly as pinned in uv.lock.
#   4. RabbitMQ running: started with `rabbitmq-server -detached` when nothing
#      answers on 127.0.0.1:5672, unless AMQP_URL points at another broker.
#   5. The services' RabbitMQ users (one per service, permissions derived from
#      the code: python -m shared.bus.users), redone when that code changed.
#
# Every step checks first, so a second run on a ready machine takes well under
# a second. Options: --no-broker skips steps 1, 4 and 5 (e.g. lint-only jobs);
# --sync runs `uv sync` (and step 5) even when the last run is newer.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WITH_BROKER=1
FORCE_SYNC=0
for arg in "$@"; do
  case "$arg" in
    --no-broker) WITH_BROKER=0 ;;
    --sync) FORCE_SYNC=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

APT_UPDATED=0
apt_install() {
  # One `apt-get update` per run, and only when something must be installed.
  is_root || die "need root to install $* (run: sudo apt-get install -y $*)"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- which broker? ------------------------------------------------------------
# AMQP_URL pointing at localhost:5672 (or unset) means "the local RabbitMQ".
AMQP_HOST=127.0.0.1
AMQP_PORT=5672
if [ -n "${AMQP_URL:-}" ]; then
  hostport="${AMQP_URL#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
  hostport="${hostport%%\?*}"
  AMQP_HOST="${hostport%%:*}"
  if [ "$hostport" != "$AMQP_HOST" ]; then AMQP_PORT="${hostport##*:}"; fi
fi
LOCAL_BROKER=0
case "$AMQP_HOST" in
  127.0.0.1|localhost|"") [ "$AMQP_PORT" = 5672 ] && LOCAL_BROKER=1 ;;
esac

port_open() {  # port_open HOST PORT
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# --- 1. rabbitmq-server installed ----------------------------------------------
if [ "$WITH_BROKER" -eq 1 ] && [ "$LOCAL_BROKER" -eq 1 ] \
    && ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  if port_open 127.0.0.1 5672; then
    log "rabbitmq-server not installed, but a broker answers on 127.0.0.1:5672: using it"
  elif is_root; then
    apt_install rabbitmq-server
  else
    log "rabbitmq-server is missing and I am not root: install it with"
    log "  sudo apt-get update && sudo apt-get install -y rabbitmq-server"
    log "or point AMQP_URL at a running broker. Integration tests need it."
  fi
fi

# --- 2. uv ---------------------------------------------------------------------
PYTHON="${PYTHON:-$(command -v python3 || true)}"
[ -n "$PYTHON" ] || die "python3 not found (need Python >= 3.11)"

find_uv() {
  if command -v uv >/dev/null 2>&1; then UV=(uv); return 0; fi
  # pip may have put it where PATH does not look (pyenv shims, ~/.local/bin).
  local user_bin
  user_bin="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts", "posix_user"))' 2>/dev/null || true)"
  for cand in "$HOME/.local/bin/uv" "$user_bin/uv" "$(dirname "$(readlink -f "$PYTHON")")/uv"; do
    if [ -x "$cand" ]; then UV=("$cand"); return 0; fi
  done
  if "$PYTHON" -c 'import uv' >/dev/null 2>&1; then UV=("$PYTHON" -m uv); return 0; fi
  return 1
}

if ! find_uv; then
  if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    if is_root; then apt_install python3-pip; else die "pip is missing: sudo apt-get install -y python3-pip"; fi
  fi
  log "pip install uv"
  # Debian's own python3 is "externally managed" (PEP 668); uv is a standalone
  # tool that touches nothing else, so --break-system-packages is safe there.
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv \
    || "$PYTHON" -m pip install --quiet --disable-pip-version-check --user uv \
    || "$PYTHON" -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv \
    || die "could not pip install uv"
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash >/dev/null 2>&1 || true; fi
  find_uv || die "uv installed but not found on PATH"
fi

# --- 3. .venv from uv.lock ----------------------------------------------------
# Only PyPI is reachable: never let uv try to download a Python build.
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"
export UV_NO_PROGRESS=1
# A stamp newer than the lock and pyproject means the last sync still holds:
# skip uv entirely (the fast path every make target takes).
STAMP=.venv/.oms-synced
if [ "$FORCE_SYNC" -eq 0 ] && [ -f "$STAMP" ] && [ -x .venv/bin/python ] && [ "$STAMP" -nt uv.lock ] && [ "$STAMP" -nt pyproject.toml ]; then
  :
else
  log "uv sync --frozen"
  "${UV[@]}" sync --frozen --quiet
  touch "$STAMP"
fi

BROKER_STARTED=0
# --- 4. RabbitMQ running ---------------------------------------------------------
if [ "$WITH_BROKER" -eq 1 ]; then
  if [ "$LOCAL_BROKER" -eq 0 ]; then
    : # AMQP_URL names another broker: not ours to start.
  elif port_open 127.0.0.1 5672; then
    :
  elif ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    log "WARNING: no broker on 127.0.0.1:5672 and rabbitmq-server is not installed"
  elif ! is_root && [ ! -w /var/lib/rabbitmq ]; then
    log "WARNING: no broker on 127.0.0.1:5672; start it with: sudo rabbitmq-server -detached"
  else
    log "starting RabbitMQ (rabbitmq-server -detached)"
    BROKER_STARTED=1
    PATH="$PATH:/usr/sbin" rabbitmq-server -detached >/dev/null 2>&1 || true
    deadline=$((SECONDS + ${RABBITMQ_START_TIMEOUT:-60}))
    until port_open 127.0.0.1 5672; do
      [ "$SECONDS" -lt "$deadline" ] || die "RabbitMQ did not answer on 127.0.0.1:5672 within ${RABBITMQ_START_TIMEOUT:-60}s (see /var/log/rabbitmq/)"
      sleep 1
    done
    # The port opens a moment before the broker accepts logins; await_startup covers that.
    PATH="$PATH:/usr/sbin" timeout 30 rabbitmqctl await_startup >/dev/null 2>&1 || true
    log "RabbitMQ is up"
  fi
fi

# --- 5. the services' RabbitMQ users ---------------------------------------------
# One user per service (oms-intake ...) limited to what its code declares, publishes and
# consumes (shared/bus/users.py, issue 7). Idempotent; skipped while the stamp is newer than
# the code the permissions are derived from and names the same broker and prefix. `make run`
# and the test session provision again anyway. A remote broker needs RABBITMQ_API_URL.
BUS_STAMP=.venv/.oms-bus-users
BUS_TARGET="${AMQP_HOST}:${AMQP_PORT} ${BUS_PREFIX:-oms} ${RABBITMQ_API_URL:+api}"
if [ "$WITH_BROKER" -eq 1 ] && { [ "$LOCAL_BROKER" -eq 1 ] || [ -n "${RABBITMQ_API_URL:-}" ]; } \
    && port_open "$AMQP_HOST" "$AMQP_PORT"; then
  if [ "$FORCE_SYNC" -eq 1 ] || [ "$BROKER_STARTED" -eq 1 ] || [ ! -f "$BUS_STAMP" ] \
      || [ "$(cat "$BUS_STAMP")" != "$BUS_TARGET" ] \
      || [ -n "$(find services shared/contracts shared/bus shared/registry.py -name '*.py' -newer "$BUS_STAMP" -print -quit)" ]; then
    if out="$(PATH="$PATH:/usr/sbin" .venv/bin/python -m shared.bus.users 2>&1)"; then
      printf '%s\n' "$BUS_TARGET" > "$BUS_STAMP"
      log "$out"
    else
      log "WARNING: $out"
      log "  the services cannot log in to the broker until it works (python -m shared.bus.users)"
    fi
  fi
fi
