#include "capture/testing/session_writer.h"

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
