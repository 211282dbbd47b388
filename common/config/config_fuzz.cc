// libFuzzer target: bytes as a sqlift.toml might hold them. ParseConfig must return a
// configuration or an error naming the place, never crash, throw or hang; a configuration it
// accepts must parse again from a rendering of its endpoints (they were checked).
//
// The same entry point runs over the seed corpus in every build (config_corpus_test.cc).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  sqlift::Result<sqlift::Config> cfg = sqlift::ParseConfig(text, "fuzz.toml");
  if (!cfg.ok()) {
    if (cfg.status().ToString().find("fuzz.toml") == std::string::npos) {
      std::fprintf(stderr, "config_fuzz: error without the file name: %s\n",
                   cfg.status().ToString().c_str());
      std::abort();
    }
    return 0;
  }
  for (const std::string* ep :
       {&cfg->transport_listen, &cfg->transport_connect, &cfg->http_listen}) {
    if (!ep->empty() && !sqlift::ParseEndpoint(*ep).ok()) {
      std::fprintf(stderr, "config_fuzz: accepted a bad endpoint %s\n", ep->c_str());
      std::abort();
    }
  }
  return 0;
}
