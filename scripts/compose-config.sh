#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker-compose config -q`
# only parses and interpolates the file. Debian's docker-compose (v1) is used,
# installed when missing; the `docker compose` plugin is used if it is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FILE="${1:-docker-compose.yml}"

if command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif [ "$(id -u)" -eq 0 ]; then
  echo "[compose-config] installing Debian's docker-compose" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  COMPOSE=(docker-compose)
else
  echo "[compose-config] docker-compose missing: sudo apt-get install -y docker-compose" >&2
  exit 1
fi

"${COMPOSE[@]}" -f "$FILE" config -q
echo "[compose-config] $FILE is valid"
