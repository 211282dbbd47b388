#include "common/base/exit_code.h"

#include <gtest/gtest.h>

namespace sqlift {
namespace {

TEST(ExitCodeTest, ExitCodeFor) {
  EXPECT_EQ(ExitCodeFor(Status::OK()), kExitOk);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("bad flag")), kExitUsage);
  EXPECT_EQ(ExitCodeFor(Status::IOError("disk")), kExitFailure);
  EXPECT_EQ(ExitCodeFor(Status::Unavailable("down")), kExitFailure);
  EXPECT_EQ(ExitCodeFor(Status::NotFound("gone")), kExitFailure);
  EXPECT_EQ(ExitCodeFor(Status::FailedPrecondition("blocked")), kExitFailure);
}

}  // namespace
}  // namespace sqlift
