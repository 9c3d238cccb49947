#!/usr/bin/env bash
# Time a newcomer's start from a fresh clone (issue 14, item 10): `make install` (the
# virtualenv and the pinned requirements), then `make demo` (migrate, seed the demo data,
# create the demo users), which is everything `make run` does before it serves.
#
#     bash bench/newcomer_start.sh            # this checkout's HEAD
#     bash bench/newcomer_start.sh 4b12b39    # any commit, e.g. the one before uv
#
# The clone lives in a temporary folder, removed afterwards. pip's and uv's download
# caches are fresh empty folders too, as on a new machine, so every package is fetched;
# WARM=1 keeps your own caches instead (a second clone on the same machine).
set -euo pipefail
ref="${1:-HEAD}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

git clone --quiet "$repo" "$scratch/clone"
git -C "$scratch/clone" checkout --quiet "$ref"
if [ "${WARM:-0}" != 1 ]; then
  export PIP_CACHE_DIR="$scratch/pip-cache" UV_CACHE_DIR="$scratch/uv-cache"
fi
# The clone's own SQLite file and dev key, never this checkout's database.
unset DATABASE_URL REDIS_URL

cd "$scratch/clone"
seconds() { local start=$SECONDS; "$@" >"$scratch/$1-$2.log" 2>&1 || { tail "$scratch/$1-$2.log"; exit 1; }; echo $((SECONDS - start)); }
install=$(seconds make install)
demo=$(seconds make demo)
installer=$(grep -o "Installed with uv\|installing with pip" "$scratch/make-install.log" || echo "pip")
echo "ref $(git rev-parse --short HEAD): make install ${install} s (${installer}), make demo ${demo} s, before serving $((install + demo)) s"
