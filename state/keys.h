// The on-disk key formats of the agent's RocksDB state, defined once (see state/README.md).
//
// Column families:
//   log    key = 8-byte big-endian seq            value = wire::ChangeBatch of that seq
//   meta   key = "pos/" + a kMeta* name below     value = 8-byte big-endian uint64
//          key = "kv/" + a caller's key           value = bytes (GetMeta/PutMeta)
//          (full layout, counters and format version: state/README.md)
//   route  key = tenant ("*" = whole database)    value = wire route record (later issues)
//
// Big-endian fixed-width seq keys make RocksDB's byte order equal to seq order, so a range
// scan is a seq range and a replayed drain overwrites the same keys (design invariant 3).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/result.h"

namespace sqlift::state {

inline constexpr size_t kSeqKeyBytes = 8;

inline constexpr std::string_view kLogFamily = "log";
inline constexpr std::string_view kMetaFamily = "meta";
inline constexpr std::string_view kRouteFamily = "route";

// Positions, each named for what it is (docs/design.md, state):
inline constexpr std::string_view kMetaLoggedSeq = "logged_seq";      // last seq synced to log
inline constexpr std::string_view kMetaAckedSeq = "acked_seq";        // last seq the applier acked
inline constexpr std::string_view kMetaSnapshotSeq = "snapshot_seq";  // S of the snapshot
inline constexpr std::string_view kMetaSchemaVersion = "schema_version";  // last seen PRAGMA value

// Appends the 8-byte big-endian encoding of `value` to *out.
void PutFixed64BE(std::string* out, uint64_t value);

// Decodes exactly 8 bytes; Corruption otherwise (the key or value is damaged).
[[nodiscard]] Result<uint64_t> GetFixed64BE(std::string_view bytes);

inline std::string SeqKey(uint64_t seq) {
  std::string key;
  PutFixed64BE(&key, seq);
  return key;
}

}  // namespace sqlift::state
