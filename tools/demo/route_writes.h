// The SQL of one RouteWriter write, per layout (route_writer.h), inside the transaction the
// writer opened on that side; bound values only. Used by route_writer.cc alone.
//
// Thread safety: functions of their arguments.
#pragma once

#include "common/base/status.h"
#include "common/pg/pg_connection.h"
#include "common/sqlite/sqlite_db.h"
#include "tools/demo/route_writer.h"

namespace sqlift {

// Inside the recorder's transaction; sets a.key where the database or the layout makes it.
[[nodiscard]] Status WriteOnSqlite(SqliteDb& db, const RouteWriterOptions& o, AckedWrite& a);
// Inside BEGIN ... COMMIT.
[[nodiscard]] Status WriteOnPostgres(PgConnection& pg, const RouteWriterOptions& o, AckedWrite& a);

}  // namespace sqlift
