#include "tools/daemon/logging.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/json/json.h"

namespace sqlift {
namespace {

// %j: the message as a JSON value (common/json's rule: a string, or {"text_hex": ..} when it
// is not UTF-8), so that a log line stays one valid JSON object whatever a table name or error
// text holds.
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string json = DumpJson(JsonText({msg.payload.data(), msg.payload.size()}));
    dest.append(json.data(), json.data() + json.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

}  // namespace

Status SetupLogging(std::string_view format, std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument(
        fmt::format("log level '{}' is not one of: trace, debug, info, warn, error, off", level));
  }
  auto logger = std::make_shared<spdlog::logger>(
      "sqlift", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessage>('j').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","pid":%P,"msg":%j})");
    logger->set_formatter(std::move(formatter));
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  } else {
    return Status::InvalidArgument(
        fmt::format("log format '{}' is not one of: text, json", format));
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return Status::OK();
}

}  // namespace sqlift
