// Invariant 1 under kill -9 of the application: a writer process killed at any point of a
// transaction leaves the transaction's changes in the tables and the outbox together or not at
// all, and the next transaction's seq follows the last committed one with no gap.
#include <gtest/gtest.h>

#include "capture/recorder/recorder.h"
#include "capture/recorder/recorder_testutil.h"
#include "common/process/process.h"

namespace sqlift {
namespace {

using namespace sqlift::testing;  // NOLINT

struct Case {
  const char* journal;  // WAL, or DELETE (a rollback journal left hot by the kill)
  const char* point;    // where the writer kills itself
  const char* last_step;
  bool committed;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.journal << " journal, killed " << c.point;
}

class RecorderCrashTest : public ::testing::TestWithParam<Case> {
 protected:
  // One committed transaction through a recorder: seq 1.
  void SetUp() override {
    path_ = dir_.Path("app.db");
    DbPtr db = OpenDb(path_);
    Exec(db.get(), std::string("PRAGMA journal_mode=") + GetParam().journal +
                       "; CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)");
    Commit(db.get(), "INSERT INTO items VALUES (1, 'first', 0)");
  }

  static void Commit(sqlite3* db, const std::string& sql) {
    std::unique_ptr<Recorder> rec = Recorder::Attach(db).value();
    Exec(db, "BEGIN IMMEDIATE; " + sql);
    Result<int64_t> n = rec->Flush();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    Exec(db, "COMMIT");
  }

  TempDir dir_;
  std::string path_;
};

TEST_P(RecorderCrashTest, KilledWriterLeavesAllOrNothing) {
  const Case& c = GetParam();
  Result<process::Output> p = process::RunCaptured({SQLIFT_TEST_WRITER, path_, c.point});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->exit_code, 128 + 9) << p->out << p->err;  // SIGKILL
  ASSERT_NE(p->out.find(c.last_step), std::string::npos) << p->out;

  DbPtr db = OpenDb(path_, false);  // recovers the WAL or rolls back the hot journal
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT count(*) FROM pragma_integrity_check WHERE "
                     "integrity_check <> 'ok'"),
            0);
  const int64_t rows = c.committed ? 101 : 1;
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM items"), rows);
  EXPECT_EQ(QueryInt(db.get(), "SELECT qty FROM items WHERE id = 1"), c.committed ? 1 : 0);
  std::vector<OutboxRow> outbox = ReadOutbox(db.get());
  ASSERT_EQ(outbox.size(), c.committed ? 2u : 1u);
  if (c.committed) {
    EXPECT_EQ(Decode(outbox[1].payload).size(), 101u);
  }

  Commit(db.get(), "INSERT INTO items VALUES (2, 'next', 0)");
  outbox = ReadOutbox(db.get());
  ASSERT_EQ(outbox.size(), c.committed ? 3u : 2u);
  for (size_t i = 0; i < outbox.size(); ++i)
    EXPECT_EQ(outbox[i].seq, int64_t(i) + 1);
  std::vector<RowChange> last = Decode(outbox.back().payload);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].new_values[0], Int(2));
}

INSTANTIATE_TEST_SUITE_P(Points, RecorderCrashTest,
                         ::testing::Values(Case{"WAL", "before-flush", "written", false},
                                           Case{"WAL", "after-flush", "flushed 101", false},
                                           Case{"WAL", "after-commit", "committed", true},
                                           Case{"DELETE", "before-flush", "written", false},
                                           Case{"DELETE", "after-flush", "flushed 101", false},
                                           Case{"DELETE", "after-commit", "committed", true}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name =
                               std::string(info.param.journal) + "_" + info.param.point;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace sqlift
