#include "common/base/crash_point.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace sqlift {
namespace {

struct Config {
  bool enabled = false;
  std::string name;
  long at = 1;
};

const Config& GetConfig() {
  static const Config config = [] {
    Config c;
    const char* env = std::getenv("SQLIFT_CRASH_POINT");
    if (env == nullptr || *env == '\0') return c;
    std::string spec(env);
    size_t colon = spec.find(':');
    c.name = spec.substr(0, colon);
    if (colon != std::string::npos) c.at = std::strtol(spec.c_str() + colon + 1, nullptr, 10);
    c.enabled = !c.name.empty() && c.at > 0;
    return c;
  }();
  return config;
}

std::atomic<long> g_hits{0};

}  // namespace

void CrashPoint(std::string_view name) {
  const Config& c = GetConfig();
  if (!c.enabled || name != c.name) return;
  if (g_hits.fetch_add(1) + 1 == c.at) std::raise(SIGKILL);
}

}  // namespace sqlift
