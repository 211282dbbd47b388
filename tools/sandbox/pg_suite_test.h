// PgSuiteTest: a gtest fixture whose test suite shares one throwaway PostgreSQL, started
// before the suite's first test and stopped (and removed) after its last. initdb is most of
// a PostgreSQL test's cost, so suites start one cluster, not one per test.
//
//   class CopyTest : public PgSuiteTest { ... pg_->CreateDatabase("x") ... };
//
// Thread safety: gtest runs the set-up and tear-down on the main thread.
#pragma once

#include <gtest/gtest.h>

#include "tools/sandbox/pg_sandbox.h"

namespace sqlift {

class PgSuiteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PgSandbox::Start({});
    ASSERT_TRUE(pg.ok()) << pg.status().ToString();
    pg_ = std::move(pg).value().release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  inline static PgSandbox* pg_ = nullptr;
};

}  // namespace sqlift
