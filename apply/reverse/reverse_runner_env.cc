// RealReverseEnv (see reverse_runner_env.h): SQLite's routes, ReverseApplier and
// PgLogicalStream as the runner's loop sees them.
#include "apply/reverse/reverse_runner_env.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "apply/reverse/source_layout.h"
#include "capture/outbox/route_table.h"
#include "capture/pg_logical/pg_replication_admin.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift {
namespace {

class ApplierSink final : public ReverseSink {
 public:
  explicit ApplierSink(std::unique_ptr<ReverseApplier> applier) : applier_(std::move(applier)) {}
  Result<pgchange::Lsn> Position() override { return applier_->Position(); }
  Result<ReverseApplyStats> ApplyBatch(std::span<const pgchange::Transaction> txns) override {
    return applier_->ApplyBatch(txns);
  }

 private:
  std::unique_ptr<ReverseApplier> applier_;
};

class StreamSource final : public ReverseSource {
 public:
  explicit StreamSource(std::unique_ptr<PgLogicalStream> stream) : stream_(std::move(stream)) {}
  Result<PgLogicalStream::Event> Next(std::chrono::milliseconds timeout) override {
    return stream_->Next(timeout);
  }
  Status Confirm(pgchange::Lsn lsn) override { return stream_->Confirm(lsn); }

 private:
  std::unique_ptr<PgLogicalStream> stream_;
};

class RealEnv final : public ReverseEnv {
 public:
  explicit RealEnv(Config cfg) : cfg_(std::move(cfg)) {}

  Result<bool> AnyOnPostgres() override {
    if (!routes_db_) {
      SQLIFT_ASSIGN_OR_RETURN(routes_db_,
                              SqliteDb::Open(cfg_.source_sqlite, SqliteDb::Mode::kReadOnly));
    }
    SQLIFT_ASSIGN_OR_RETURN(std::vector<RouteRow> routes, ReadRoutes(routes_db_->handle()));
    return std::any_of(routes.begin(), routes.end(),
                       [](const RouteRow& r) { return r.on_postgres(); });
  }

  Result<std::unique_ptr<ReverseSink>> OpenSink() override {
    SQLIFT_ASSIGN_OR_RETURN(ReverseApplierOptions o, ReverseOptionsFor(cfg_));
    SQLIFT_ASSIGN_OR_RETURN(auto applier, ReverseApplier::Open(cfg_.source_sqlite, std::move(o)));
    return std::unique_ptr<ReverseSink>(new ApplierSink(std::move(applier)));
  }

  Result<std::unique_ptr<ReverseSource>> OpenSource(pgchange::Lsn start) override {
    LogicalStreamOptions o;
    o.conninfo = cfg_.target_pg;
    o.slot = o.publication = SlotNameFor(cfg_.source_id);
    o.start_lsn = start;
    SQLIFT_ASSIGN_OR_RETURN(auto stream, PgLogicalStream::Open(o));
    spdlog::info("reverse: streaming slot {} from {} into {}", o.slot,
                 pgchange::FormatLsn(o.start_lsn), cfg_.source_sqlite);
    return std::unique_ptr<ReverseSource>(new StreamSource(std::move(stream)));
  }

 private:
  const Config cfg_;
  std::unique_ptr<SqliteDb> routes_db_;
};

}  // namespace

std::unique_ptr<ReverseEnv> RealReverseEnv(const Config& cfg) {
  return std::make_unique<RealEnv>(cfg);
}

}  // namespace sqlift
