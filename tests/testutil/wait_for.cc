#include "tests/testutil/wait_for.h"

#include <thread>

namespace sqlift::testutil {

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the condition
  }
  return done();
}

}  // namespace sqlift::testutil
