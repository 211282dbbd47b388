#include "capture/shadow_sampler/shadow_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace sqlift {
namespace {

// The entry's SQL from a parsed line: "sql" (a string, or common/json's {"text_hex"} form) or
// "sql_hex", never both.
Result<std::string> SqlOf(const Json& line) {
  auto sql = line.find("sql"), hex = line.find("sql_hex");
  if (sql != line.end() && hex != line.end())
    return Status::InvalidArgument("both sql and sql_hex");
  if (sql != line.end()) return TextFromJson(*sql);
  if (hex == line.end()) return Status::InvalidArgument("needs at_us and sql (or sql_hex)");
  if (!hex->is_string()) return Status::InvalidArgument("sql_hex is not a string");
  return BytesFromHex(hex->get_ref<const std::string&>());
}

}  // namespace

void SetShadowText(Json* object, const std::string& key, std::string_view text) {
  Json value = JsonText(text);
  if (value.is_string()) {
    (*object)[key] = std::move(value);
  } else {
    (*object)[key + "_hex"] = HexBytes(text);
  }
}

std::string FormatShadowLine(const ShadowEntry& e) {
  Json line = {{"at_us", e.at_us}};
  SetShadowText(&line, "sql", e.sql);
  return DumpJson(line) + "\n";
}

Result<ShadowEntry> ParseShadowLine(std::string_view line) {
  SQLIFT_ASSIGN_OR_RETURN(Json doc, ParseJson(line));
  if (!doc.is_object()) return Status::InvalidArgument("not a JSON object");
  auto at = doc.find("at_us");
  if (at == doc.end()) return Status::InvalidArgument("needs at_us and sql (or sql_hex)");
  if (!at->is_number_integer() ||
      (at->is_number_unsigned() && at->get<uint64_t>() > uint64_t{INT64_MAX})) {
    return Status::InvalidArgument("at_us is not an integer");
  }
  ShadowEntry e;
  e.at_us = at->get<int64_t>();
  SQLIFT_ASSIGN_OR_RETURN(e.sql, SqlOf(doc));
  return e;
}

Result<std::unique_ptr<ShadowLogWriter>> ShadowLogWriter::Open(const std::string& path,
                                                               uint64_t max_bytes,
                                                               size_t flush_bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError(fmt::format("open shadow log {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Status::IOError(fmt::format("stat shadow log {}: {}", path, std::strerror(errno)));
    ::close(fd);
    return s;
  }
  return std::unique_ptr<ShadowLogWriter>(
      new ShadowLogWriter(fd, path, static_cast<uint64_t>(st.st_size), max_bytes, flush_bytes));
}

ShadowLogWriter::~ShadowLogWriter() {
  (void)Flush();
  ::close(fd_);
}

ShadowLogWriter::Append ShadowLogWriter::Add(const ShadowEntry& e) {
  std::string line = FormatShadowLine(e);
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) return Append::kFailed;
  if (full_ || size_ + line.size() > max_) {
    full_ = true;
    return Append::kFull;
  }
  buffer_ += line;
  size_ += line.size();
  if (buffer_.size() >= flush_ && !WriteLocked().ok()) return Append::kFailed;
  return Append::kAppended;
}

Status ShadowLogWriter::WriteLocked() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = Status::IOError(
          fmt::format("append to shadow log {}: {}", path_, std::strerror(n < 0 ? errno : EIO)));
      size_ -= buffer_.size() - done;
      buffer_.clear();
      return error_;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return Status::OK();
}

Status ShadowLogWriter::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) return error_;
  return WriteLocked();
}

uint64_t ShadowLogWriter::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

Result<ShadowLogContents> ReadShadowLog(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(fmt::format("open shadow log {}: {}", path, std::strerror(errno)));
  }
  ShadowLogContents out;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const bool last = in.eof();  // getline stopped at the end, not at a '\n'
    Result<ShadowEntry> e = ParseShadowLine(line);
    if (e.ok()) {
      if (limit > 0 && out.entries.size() == limit) {
        out.truncated = true;
        break;
      }
      out.entries.push_back(std::move(e).value());
    } else if (last) {
      out.torn_tail = true;
    } else if (!line.empty()) {
      if (out.malformed_lines++ == 0) {
        out.first_malformed_line = number;
        out.first_malformed_reason = e.status().message();
      }
    }
  }
  if (in.bad()) return Status::IOError(fmt::format("read shadow log {}", path));
  return out;
}

}  // namespace sqlift
