#include "capture/agent/testing/session_writer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sqlift::testing {
namespace {

int NotReserved(void*, const char* table) {
  return std::strncmp(table, "_sqlift_", 8) != 0;
}

}  // namespace

SessionWriter::~SessionWriter() {
  EndSession();
}

void SessionWriter::EndSession() {
  if (session_) sqlite3session_delete(session_);
  session_ = nullptr;
}

void SessionWriter::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
}

void SessionWriter::Exec(const std::string& sql, const std::vector<Param>& params) {
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    if (const auto* n = std::get_if<int64_t>(&params[i])) {
      sqlite3_bind_int64(stmt, index, *n);
    } else if (const auto* t = std::get_if<std::string>(&params[i])) {
      sqlite3_bind_text(stmt, index, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(stmt, index);
    }
  }
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
}

void SessionWriter::Begin() {
  Exec("BEGIN IMMEDIATE");
  ASSERT_EQ(sqlite3session_create(db_, "main", &session_), SQLITE_OK);
  sqlite3session_table_filter(session_, NotReserved, nullptr);
  ASSERT_EQ(sqlite3session_attach(session_, nullptr), SQLITE_OK);
}

std::string SessionWriter::Changeset() {
  int n = 0;
  void* p = nullptr;
  EXPECT_EQ(sqlite3session_changeset(session_, &n, &p), SQLITE_OK);
  std::string out(static_cast<const char*>(p), static_cast<size_t>(n));
  sqlite3_free(p);
  return out;
}

void SessionWriter::Commit(int64_t committed_at_us) {
  std::string cs = Changeset();
  EndSession();
  if (!cs.empty()) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT INTO _sqlift_outbox(committed_at, kind, payload) "
                                 "VALUES (?1, 1, ?2)",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, committed_at_us);
    sqlite3_bind_blob(stmt, 2, cs.data(), static_cast<int>(cs.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
  }
  Exec("COMMIT");
}

void SessionWriter::Rollback() {
  EndSession();
  Exec("ROLLBACK");
}

}  // namespace sqlift::testing
