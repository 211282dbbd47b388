// ReadTokenFile: the shared secret of [transport] token_file (see config.h).
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/config/config.h"

namespace sqlift {

Result<std::string> ReadTokenFile(const Config& cfg) {
  if (cfg.transport_token_file.empty()) {
    return Status::InvalidArgument(
        "[transport] token_file is required: the agent and the "
        "applier prove who they are with the token it holds");
  }
  std::ifstream in(cfg.transport_token_file, std::ios::binary);
  if (!in) {
    return Status::IOError(fmt::format("cannot read token_file {}", cfg.transport_token_file));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string token = buf.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.size() < 16) {
    return Status::InvalidArgument(fmt::format(
        "token_file {} holds {} bytes; use at least 16 random bytes (e.g. `openssl rand -hex 32`)",
        cfg.transport_token_file, token.size()));
  }
  struct stat st {};
  if (stat(cfg.transport_token_file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
    spdlog::warn("token_file {} is readable by other users; chmod 600 it",
                 cfg.transport_token_file);
  }
  return token;
}

}  // namespace sqlift
