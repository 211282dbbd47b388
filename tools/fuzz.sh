#!/usr/bin/env bash
# Longer fuzz runs than CI's 15 s: tools/fuzz.sh [SECONDS] (default 600 per target).
# Builds the fuzz preset's targets and runs each over a copy of its seed corpus. Crashing
# inputs are left in build/fuzz/<target>.long/ (crash-*): add each to the target's corpus
# directory (named for what it found) so that it becomes a regression test in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target frame_decoder_fuzz changeset_decoder_fuzz config_fuzz \
  pgoutput_decoder_fuzz wal_page_fuzz wal_reader_fuzz
for spec in frame_decoder_fuzz:proto/wire:fuzz \
            changeset_decoder_fuzz:capture/agent:fuzz \
            config_fuzz:common/config:fuzz \
            pgoutput_decoder_fuzz:capture/pg_logical:fuzz \
            wal_page_fuzz:capture/wal:fuzz \
            wal_reader_fuzz:capture/wal:fuzz_reader; do
  IFS=: read -r target dir seeds <<<"$spec"
  corpus="$dir/$seeds"
  work="build/fuzz/$target.long"
  mkdir -p "$work/corpus" && cp -r "$corpus"/. "$work/corpus/"
  echo "fuzz: $target for $seconds s"
  "build/fuzz/$dir/$target" -max_total_time="$seconds" -timeout=10 -artifact_prefix="$work/" "$work/corpus"
done
