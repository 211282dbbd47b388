#!/usr/bin/env bash
# Installs everything sqlift needs to build, test and run, from Debian 12 packages only.
# Idempotent: packages already present are left alone; `apt-get update` runs at most once.
# Must run as root (or with sudo available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  # libraries
  libsqlite3-dev libpq-dev libboost-dev libprotobuf-dev protobuf-compiler
  libssl-dev librocksdb-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  # servers and clients used by the demo, the tests and the benchmarks
  postgresql-15 postgresql-client-15 sqlite3 python3 procps openssl
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "install-deps: run as root (or install sudo)" >&2; exit 1
  fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# The Debian postgresql package starts a cluster of its own; sqlift never uses it (tests start
# throwaway clusters), so stop it where a service manager runs, to free port 5432 and memory.
if command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q online; then
  "${sudo_cmd[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
fi
echo "install-deps: done"
