// SessionWriter: the smallest correct recorder, for tests of what reads the outbox (decoder,
// agent). Each transaction gets a fresh session; Commit writes its changeset into the outbox
// in the same transaction. Independent of capture/recorder.h on purpose, so these tests do
// not depend on the code they are not about.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace sqlift::testing {

class SessionWriter {
 public:
  explicit SessionWriter(sqlite3* db) : db_(db) {}
  ~SessionWriter();

  // BEGIN IMMEDIATE and a fresh session on every table but sqlift's own.
  void Begin();
  // The changeset of the writes since Begin (empty when none); Commit writes it too.
  std::string Changeset();
  // Writes the changeset (when not empty) into the outbox, then COMMIT.
  void Commit(int64_t committed_at_us = 1'700'000'000'000'000);
  void Rollback();
  // Runs SQL (test set-up and writes); fails the test on error.
  void Exec(const std::string& sql);
  // Runs one statement with bound parameters ?1, ?2, ...: integers, text, or NULL.
  using Param = std::variant<int64_t, std::string, std::nullptr_t>;
  void Exec(const std::string& sql, const std::vector<Param>& params);

 private:
  void EndSession();

  sqlite3* db_;
  sqlite3_session* session_ = nullptr;
};

}  // namespace sqlift::testing
