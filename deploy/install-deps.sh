#!/usr/bin/env bash
# Installs everything sqlift needs to build, test and run: Debian 12 packages, then the Node
# test client's one npm package (better-sqlite3, pinned in tests/clients/node/package-lock.json),
# fetched from the npm registry and compiled here against the system's Node headers.
# Then old SQLite command-line shells, built from the amalgamations that old versions of the
# npm package sqlite3 bundle, for the wal agent's test against files old versions write.
# Idempotent: packages already present are left alone; `apt-get update` runs at most once; the
# npm package is left alone when the pinned version is installed and loads; an old shell is
# left alone when it is built and runs.
# Must run as root (or with sudo available) for the Debian part; npm runs as the caller.
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
  # (Node for the test client is installed below, by ensure_node: nodejs, npm, node-gyp,
  # libnode-dev from Debian unless a Node 18+ with npm is already there.)
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "install-deps: run as root (or install sudo)" >&2; exit 1
  fi
fi

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_client_dir="$repo_dir/tests/clients/node"
apt_updated=0

# Installs the Debian packages among "$@" that are not installed yet.
install_debian() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all $# packages present"
    return 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -eq 0 ]; then "${sudo_cmd[@]}" apt-get update -q; apt_updated=1; fi
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node 18 or later with npm and the headers to compile an addon. A Node already installed from
# elsewhere (e.g. NodeSource's, which bundles npm and the headers and conflicts with Debian's
# npm package) is kept; otherwise Debian's nodejs and npm (which brings node-gyp and libnode-dev).
ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 \
      || [ "$(node_major)" -lt 18 ]; then
    install_debian nodejs npm node-gyp libnode-dev || true
  fi
  if [ ! -f /usr/include/node/node_api.h ]; then install_debian libnode-dev || true; fi
  if [ "$(node_major)" -lt 18 ] || ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: FAILED: need node >= 18 and npm (found node $(node --version 2>&1))" >&2
    exit 1
  fi
  echo "install-deps: node $(node --version), npm $(npm --version)"
}

# The node-gyp to compile better-sqlite3 with: Debian's, else the one bundled with npm. Never
# `npx node-gyp` without one installed: that would fetch an unpinned node-gyp.
find_node_gyp() {
  if command -v node-gyp >/dev/null 2>&1; then command -v node-gyp; return; fi
  local npm_dir
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  if [ -f "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" ]; then
    echo "$npm_dir/node_modules/node-gyp/bin/node-gyp.js"; return
  fi
  echo "install-deps: FAILED: no node-gyp (install Debian's node-gyp)" >&2
  exit 1
}

# Exit 0 when the pinned better-sqlite3 is installed in the client folder and opens a database.
node_client_loads() {
  (cd "$node_client_dir" && node -e '
    const want = require("./package.json").dependencies["better-sqlite3"];
    const got = require("better-sqlite3/package.json").version;
    if (got !== want) { console.error(`better-sqlite3 ${got} installed, ${want} pinned`); process.exit(2); }
    const Database = require("better-sqlite3");
    const v = new Database(":memory:").prepare("select sqlite_version() v").get().v;
    console.log(`better-sqlite3 ${got} (SQLite ${v})`);') 2>&1
}

# better-sqlite3 at the version the lock file pins, from the npm registry only: `npm ci` without
# install scripts (their prebuild-install would download a binary from GitHub), then the addon
# compiled from the package's own sources (its bundled SQLite included) against /usr's headers.
install_node_client() {
  local loaded
  if loaded="$(node_client_loads)"; then
    echo "install-deps: node client present: $loaded"
    return
  fi
  # A build kept from an earlier run on this machine, for the same lock file and Node version,
  # is used as it is (a fresh clone has no node_modules; compiling takes minutes).
  local key cache
  key="$(cat "$node_client_dir/package-lock.json" | sha256sum | cut -c1-16)-node$(node_major)"
  cache="${SQLIFT_NODE_CACHE:-/var/cache/sqlift/node-client}/$key"
  if [ -d "$cache/node_modules" ]; then
    rm -rf "$node_client_dir/node_modules"
    cp -a "$cache/node_modules" "$node_client_dir/"
    if loaded="$(node_client_loads)"; then
      echo "install-deps: node client from $cache: $loaded"
      return
    fi
  fi
  echo "install-deps: installing the node client's packages in $node_client_dir"
  (cd "$node_client_dir" && npm ci --ignore-scripts --no-audit --no-fund)
  local gyp
  gyp="$(find_node_gyp)"
  echo "install-deps: compiling better-sqlite3 with $gyp (a minute or two)"
  (cd "$node_client_dir/node_modules/better-sqlite3" &&
    node "$gyp" rebuild --release --nodedir=/usr --jobs="$(nproc)")
  if ! loaded="$(node_client_loads)"; then
    echo "install-deps: FAILED: better-sqlite3 does not load after the build: $loaded" >&2
    exit 1
  fi
  echo "install-deps: node client installed: $loaded"
  if mkdir -p "$cache" 2>/dev/null && rm -rf "$cache/node_modules" &&
    cp -a "$node_client_dir/node_modules" "$cache/"; then
    echo "install-deps: node client kept in $cache for the next run"
  fi
}

# Old SQLite versions, each as the npm package sqlite3 version that bundles its amalgamation:
# "<npm version> <SQLite version>". The wal agent's test (capture/agent/
# wal_agent_old_sqlite_test.cc) has each shell write the WAL files it decodes; CMake finds them
# under $old_sqlite_dir/<SQLite version>/sqlite3.
old_sqlite_dir="${SQLIFT_OLD_SQLITE_DIR:-/opt/sqlift/old-sqlite}"
old_sqlite_versions=(
  "2.1.0 3.7.8"     # the oldest tested (WAL since 3.7.0); the legacy file format by default
  "2.1.19 3.7.17"
  "2.2.7 3.8.5"     # WITHOUT ROWID (3.8.2)
  "3.1.0 3.8.11.1"  # the last before nBackfillAttempted (3.11)
  "3.1.13 3.15.0"
  "4.1.0 3.28.0"
)

# How the shells are compiled. HAVE_USLEEP: without it (autoconf's configure would set it) a
# busy SQLite sleeps in whole seconds; the test's agent holds writers off for a moment.
old_sqlite_cflags="-O1 -w -DHAVE_USLEEP=1"

# Exit 0 when the shell for SQLite $1 is built with these flags and reports that version.
old_sqlite_ok() {
  local shell="$old_sqlite_dir/$1/sqlite3"
  [ -x "$shell" ] && "$shell" -version 2>/dev/null | grep -q "^$1 " &&
    [ "$(cat "$old_sqlite_dir/$1/cflags" 2>/dev/null)" = "$old_sqlite_cflags" ]
}

# Fetches sqlite3@$1 from the npm registry and builds the shell of the SQLite $2 it bundles.
build_old_sqlite() {
  local npm_version="$1" version="$2" work tarball
  work="$(mktemp -d)"
  local rc=0
  (
    cd "$work" || exit 1
    tarball="$(npm pack --silent "sqlite3@$npm_version" | tail -n 1)" || exit 1
    tar xzf "$tarball" --wildcards 'package/deps/sqlite-autoconf-*.tar.gz' || exit 1
    tar xzf package/deps/sqlite-autoconf-*.tar.gz --strip-components=1 --wildcards \
      '*/sqlite3.c' '*/shell.c' '*/sqlite3.h' || exit 1
    # shellcheck disable=SC2086 # the flags are words
    gcc $old_sqlite_cflags -o sqlite3 shell.c sqlite3.c -lpthread -ldl -lm || exit 1
    mkdir -p "$old_sqlite_dir/$version" || exit 1
    mv sqlite3 "$old_sqlite_dir/$version/sqlite3.new" &&
      mv "$old_sqlite_dir/$version/sqlite3.new" "$old_sqlite_dir/$version/sqlite3" &&
      echo "$old_sqlite_cflags" >"$old_sqlite_dir/$version/cflags"
  ) >"$work.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ] || ! old_sqlite_ok "$version"; then
    echo "install-deps: FAILED: building SQLite $version (sqlite3@$npm_version):" >&2
    cat "$work.log" >&2
    rm -rf "$work" "$work.log"
    return 1
  fi
  rm -rf "$work" "$work.log"
}

# The old shells not built yet, built two at a time (each is one large C file).
install_old_sqlite() {
  local entry npm_version version pids=() failed=0 running=0 pid
  mkdir -p "$old_sqlite_dir"
  for entry in "${old_sqlite_versions[@]}"; do
    read -r npm_version version <<<"$entry"
    if old_sqlite_ok "$version"; then continue; fi
    echo "install-deps: building the SQLite $version shell (sqlite3@$npm_version)"
    build_old_sqlite "$npm_version" "$version" &
    pids+=($!)
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
      running=$((running - 1))
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  if [ "$failed" -ne 0 ]; then
    echo "install-deps: FAILED: an old SQLite shell did not build" >&2
    exit 1
  fi
  echo "install-deps: old SQLite shells in $old_sqlite_dir: $(ls "$old_sqlite_dir" | tr '\n' ' ')"
}

if install_debian "${packages[@]}"; then
  # The Debian postgresql package starts a cluster of its own; sqlift never uses it (tests
  # start throwaway clusters), so stop it where a service manager runs, to free port 5432.
  if command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q online; then
    "${sudo_cmd[@]}" pg_ctlcluster 15 main stop 2>/dev/null || true
  fi
fi
ensure_node
install_node_client
install_old_sqlite
echo "install-deps: done"
