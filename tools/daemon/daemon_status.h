// What the daemons serve on [http] (GET /status as JSON, GET /metrics for Prometheus) and
// what `sqlift status` reads: positions named for what they are (captured, logged, shipped,
// acked, applied), lag, snapshot, dead letters; in wal capture mode also how far the agent
// has decoded the WAL.
//
// Thread safety: the functions read thread-safe sources (RocksDB, the shipper's and
// receiver's stats, their own SQLite and PostgreSQL connections); ApplierProbe serializes
// its connection with a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "apply/receiver/receiver.h"
#include "apply/reverse/reverse_runner.h"
#include "capture/shipper/shipper.h"
#include "capture/wal/wal_progress.h"
#include "common/base/result.h"
#include "common/config/config.h"
#include "common/pg/pg_connection.h"
#include "state/change_log.h"
#include "tools/daemon/http_server.h"

namespace sqlift {

// The outbox high-water mark of the application's database: the last seq committed there
// (the captured position in recorder mode). 0 without an outbox.
[[nodiscard]] Result<uint64_t> CapturedSeq(const std::string& sqlite_path);

// The captured position, for the database's capture mode. Recorder mode: CapturedSeq. wal
// capture mode: what the agent's progress file ([state] dir) shows, the seq logged up to the
// WAL frame it has decoded (what is committed past that frame has no seq until the agent logs
// it); seq 0 and no `wal` until the agent publishes.
struct CapturedPosition {
  std::string mode;  // _sqlift_state capture_mode: "recorder" | "wal"
  uint64_t seq = 0;
  std::optional<wal::WalProgress> wal;
};
[[nodiscard]] Result<CapturedPosition> ReadCapturedPosition(const Config& cfg);

// The applier's truth in PostgreSQL for one source.
struct AppliedState {
  bool has_position = false;
  uint64_t applied_seq = 0;
  std::optional<uint64_t> snapshot_seq, snapshot_rows;
  std::string updated_at;
  int64_t dead_letters = 0;
};
[[nodiscard]] Result<AppliedState> ReadAppliedState(PgConnection& conn, const std::string& source);

// The agent's endpoints: /status (JSON), /metrics (Prometheus), /route (JSON: every route the
// agent has logged, or with ?tenant=T the route that applies to T; "fenced": true, whatever
// its "side", means wait and ask again). The handlers read what is passed here, which must
// outlive the server; `shipper` and `reverse` may be null.
std::map<std::string, HttpServer::Handler> AgentHttpRoutes(const Config& cfg, state::ChangeLog* log,
                                                           const Shipper* shipper,
                                                           const ReverseRunner* reverse);
HttpResponse AgentStatus(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                         const ReverseRunner* reverse);
HttpResponse AgentMetrics(const Config& cfg, state::ChangeLog& log, const Shipper* shipper,
                          const ReverseRunner* reverse);
HttpResponse AgentRoutes(state::ChangeLog& log, const HttpQuery& query);

// The applier's /status and /metrics, with its own PostgreSQL connection (reopened when lost).
class ApplierProbe {
 public:
  ApplierProbe(std::string uri, std::string source, const apply::Receiver* receiver)
      : uri_(std::move(uri)), source_(std::move(source)), receiver_(receiver) {}
  HttpResponse Status();
  HttpResponse Metrics();

 private:
  Result<AppliedState> Read();

  const std::string uri_, source_;
  const apply::Receiver* receiver_;
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;
};

// The applier's /status and /metrics, read through `probe`, which must outlive the server.
std::map<std::string, HttpServer::Handler> ApplierHttpRoutes(ApplierProbe* probe);

}  // namespace sqlift
