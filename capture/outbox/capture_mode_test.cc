// The capture mode `init` stores in _sqlift_state: read back as written, "recorder" for a
// database initialised before the key existed and for one never initialised, and a value that
// is neither mode refused.
#include <gtest/gtest.h>

#include "capture/outbox/outbox.h"
#include "common/sqlite/sqlite_db.h"

namespace sqlift::outbox {
namespace {

class CaptureModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWriteCreate).value();
  }
  void SetMode(const std::string& value) {
    SqliteStatement st =
        db_->Prepare("INSERT OR REPLACE INTO _sqlift_state (key, value) VALUES (?1, ?2)").value();
    ASSERT_TRUE(st.BindText(1, kStateCaptureMode).ok());
    ASSERT_TRUE(st.BindText(2, value).ok());
    ASSERT_TRUE(st.Step().ok());
  }
  std::string Mode() {
    Result<std::string> mode = ReadCaptureMode(db_->handle());
    EXPECT_TRUE(mode.ok()) << mode.status().ToString();
    return mode.ok() ? *mode : "";
  }

  std::unique_ptr<SqliteDb> db_;
};

TEST_F(CaptureModeTest, RecorderWithoutTheTableOrTheKey) {
  EXPECT_EQ(Mode(), "recorder");  // never initialised
  ASSERT_TRUE(CreateTables(db_->handle()).ok());
  EXPECT_EQ(Mode(), "recorder");  // initialised before the key existed
}

TEST_F(CaptureModeTest, TheStoredMode) {
  ASSERT_TRUE(CreateTables(db_->handle()).ok());
  SetMode("wal");
  EXPECT_EQ(Mode(), "wal");
  SetMode("recorder");
  EXPECT_EQ(Mode(), "recorder");
}

TEST_F(CaptureModeTest, AnUnknownModeIsCorruption) {
  ASSERT_TRUE(CreateTables(db_->handle()).ok());
  SetMode("WAL");
  Result<std::string> mode = ReadCaptureMode(db_->handle());
  EXPECT_EQ(mode.status().code(), Status::Code::kCorruption);
  EXPECT_NE(mode.status().message().find("'WAL'"), std::string::npos) << mode.status().ToString();
}

}  // namespace
}  // namespace sqlift::outbox
