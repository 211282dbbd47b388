// The replication probes of `sqlift check`: what reverse replication (capture's way back,
// created by cutover, dropped by fallback and finish) needs from the login and the server.
#include <fmt/format.h>

#include "common/pg/pg_identifier.h"
#include "tools/check/privilege_probes.h"

namespace sqlift::privcheck {
namespace {

constexpr char kRestart[] = "a superuser, then restart PostgreSQL";

Finding ReplicationAttribute(const Login& login) {
  const std::string what = "REPLICATION attribute (or superuser)";
  const char* why = "the way back streams from a logical replication slot";
  if (login.replication || login.superuser) return Held(what, kForSwitch, why);
  return Missing(what, kForSwitch,
                 fmt::format("ALTER ROLE {} REPLICATION;", QuoteIdentifier(login.role)),
                 "a superuser",
                 fmt::format("{}; on Amazon RDS instead: GRANT rds_replication TO {};", why,
                             QuoteIdentifier(login.role)));
}

Finding WalLevel(const std::string& level) {
  const std::string what = "server setting wal_level = logical (now " + level + ")";
  if (level == "logical") return Held(what, kForSwitch);
  return Missing(what, kForSwitch, "ALTER SYSTEM SET wal_level = logical;", kRestart,
                 "on Amazon RDS: parameter rds.logical_replication = 1; on Cloud SQL: flag "
                 "cloudsql.logical_decoding = on");
}

Finding AtLeastOne(const std::string& setting, int64_t value) {
  const std::string what = fmt::format("server setting {} > 0 (now {})", setting, value);
  if (value > 0) return Held(what, kForSwitch);
  return Missing(what, kForSwitch, fmt::format("ALTER SYSTEM SET {} = 10;", setting), kRestart,
                 "one slot and one WAL sender per source replicating back");
}

// The publication exists and publishes the schema; or it will be created at the first cutover,
// which only a superuser may do for a whole schema (FOR TABLES IN SCHEMA).
Status Publication(PgConnection& conn, const Login& login, const CheckTarget& target,
                   std::vector<Finding>* out) {
  const std::string pub = QuoteIdentifier(target.replication_name);
  const std::string schema = QuoteIdentifier(target.schema);
  SQLIFT_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Query(
          "SELECT p.puballtables OR EXISTS (SELECT 1 FROM pg_catalog.pg_publication_namespace "
          "pn JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid "
          "AND n.nspname = $2) FROM pg_catalog.pg_publication p WHERE p.pubname = $1",
          {target.replication_name, target.schema}));
  const std::string what = fmt::format("publication {} of schema {}", pub, schema);
  if (r.rows() == 1 && r.get(0, 0) == "t") {
    out->push_back(Held(what, kForSwitch, "exists"));
  } else if (r.rows() == 1) {
    out->push_back(Missing(
        what, kForSwitch, fmt::format("ALTER PUBLICATION {} ADD TABLES IN SCHEMA {};", pub, schema),
        "a superuser", "the publication exists but does not publish the schema"));
  } else if (login.superuser) {
    out->push_back(Held(what, kForSwitch, "the first cutover creates it"));
  } else {
    out->push_back(Missing(
        what, kForSwitch,
        fmt::format("CREATE PUBLICATION {} FOR TABLES IN SCHEMA {};", pub, schema), "a superuser",
        "only a superuser may publish a whole schema; cutover uses the publication it finds, and "
        "fallback and finish leave one they do not own"));
  }
  return Status::OK();
}

}  // namespace

Status CheckReplication(PgConnection& conn, const Login& login, const CheckTarget& target,
                        std::vector<Finding>* out) {
  out->push_back(ReplicationAttribute(login));
  SQLIFT_ASSIGN_OR_RETURN(PgResult r,
                          conn.Query("SELECT current_setting('wal_level'), "
                                     "current_setting('max_replication_slots')::bigint, "
                                     "current_setting('max_wal_senders')::bigint"));
  out->push_back(WalLevel(std::string(r.get(0, 0))));
  SQLIFT_ASSIGN_OR_RETURN(int64_t slots, r.GetInt64(0, 1));
  SQLIFT_ASSIGN_OR_RETURN(int64_t senders, r.GetInt64(0, 2));
  out->push_back(AtLeastOne("max_replication_slots", slots));
  out->push_back(AtLeastOne("max_wal_senders", senders));
  return Publication(conn, login, target, out);
}

}  // namespace sqlift::privcheck
