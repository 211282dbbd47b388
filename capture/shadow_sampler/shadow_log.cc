#include "capture/shadow_sampler/shadow_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "common/base/text.h"

namespace sqlift {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A reader of the flat JSON objects this file writes: string and integer values only.
class LineParser {
 public:
  explicit LineParser(std::string_view s) : s_(s) {}

  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool AtEnd() {
    Space();
    return i_ == s_.size();
  }
  bool PeekString() {
    Space();
    return i_ < s_.size() && s_[i_] == '"';
  }

  bool String(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ == s_.size()) return false;
      switch (char e = s_[i_++]) {
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
            uint32_t lo = 0;
            if (!Raw("\\u") || !Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          if (e != '"' && e != '\\' && e != '/') return false;
          out->push_back(e);
      }
    }
    return false;  // unterminated
  }

  bool Integer(int64_t* out) {
    Space();
    size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + i_, *out);
    return ec == std::errc() && end == s_.data() + i_ && i_ > start;
  }

 private:
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool Raw(std::string_view text) {  // `text` next, no space skipped
    if (s_.substr(i_, text.size()) != text) return false;
    i_ += text.size();
    return true;
  }
  bool Hex4(uint32_t* cp) {
    if (i_ + 4 > s_.size()) return false;
    *cp = 0;
    for (int k = 0; k < 4; ++k) {
      int d = HexDigit(s_[i_++]);
      if (d < 0) return false;
      *cp = *cp * 16 + static_cast<uint32_t>(d);
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("sql_hex has an odd number of digits");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("sql_hex holds a non-hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

std::string FormatShadowLine(const ShadowEntry& e) {
  if (IsValidUtf8(e.sql))
    return fmt::format("{{\"at_us\":{},\"sql\":{}}}\n", e.at_us, JsonQuote(e.sql));
  std::string hex;
  hex.reserve(e.sql.size() * 2);
  for (unsigned char c : e.sql) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return fmt::format("{{\"at_us\":{},\"sql_hex\":\"{}\"}}\n", e.at_us, hex);
}

Result<ShadowEntry> ParseShadowLine(std::string_view line) {
  auto bad = [](std::string_view why) { return Status::InvalidArgument(why); };
  LineParser p(line);
  if (!p.Eat('{')) return bad("not a JSON object");
  ShadowEntry e;
  bool have_at = false, have_sql = false;
  std::string key, value;
  if (!p.Eat('}')) {
    do {
      if (!p.String(&key) || !p.Eat(':')) return bad("expected \"key\":");
      if (key == "at_us") {
        if (!p.Integer(&e.at_us)) return bad("at_us is not an integer");
        have_at = true;
      } else if (p.PeekString()) {
        if (!p.String(&value)) return bad("unterminated string for " + key);
        if (key == "sql" || key == "sql_hex") {
          if (have_sql) return bad("both sql and sql_hex");
          if (key == "sql") {
            e.sql = std::move(value);
          } else {
            SQLIFT_ASSIGN_OR_RETURN(e.sql, FromHex(value));
          }
          have_sql = true;
        }
      } else {
        int64_t ignored = 0;
        if (!p.Integer(&ignored)) return bad("unexpected value for " + key);
      }
    } while (p.Eat(','));
    if (!p.Eat('}')) return bad("expected , or }");
  }
  if (!p.AtEnd()) return bad("text after the object");
  if (!have_at || !have_sql) return bad("needs at_us and sql (or sql_hex)");
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
