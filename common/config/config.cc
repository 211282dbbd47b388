#include "common/config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

namespace sqlift {
namespace {

// One known key: where its value goes and how it is checked.
struct KeySpec {
  std::function<std::string*(Config&)> string_field;
  std::function<int64_t*(Config&)> int_field;
  std::function<std::vector<std::string>*(Config&)> list_field;  // array of strings
  std::function<double*(Config&)> double_field;                  // a float (or an integer)
  std::vector<std::string_view> allowed;                         // for enumerations; empty = any
  int64_t min = 0, max = 0;                                      // for integers
  double dmin = 0, dmax = 0;                                     // for numbers
};

const std::map<std::string, KeySpec, std::less<>>& KnownKeys() {
  auto str = [](std::string Config::*m, std::vector<std::string_view> allowed = {}) {
    KeySpec k;
    k.string_field = [m](Config& c) { return &(c.*m); };
    k.allowed = std::move(allowed);
    return k;
  };
  auto num = [](int64_t Config::*m, int64_t lo, int64_t hi) {
    KeySpec k;
    k.int_field = [m](Config& c) { return &(c.*m); };
    k.min = lo;
    k.max = hi;
    return k;
  };
  auto real = [](double Config::*m, double lo, double hi) {
    KeySpec k;
    k.double_field = [m](Config& c) { return &(c.*m); };
    k.dmin = lo;
    k.dmax = hi;
    return k;
  };
  auto list = [](std::vector<std::string> Config::*m) {
    KeySpec k;
    k.list_field = [m](Config& c) { return &(c.*m); };
    return k;
  };
  static const auto* keys = new std::map<std::string, KeySpec, std::less<>>{
      {"source.id", str(&Config::source_id)},
      {"source.sqlite", str(&Config::source_sqlite)},
      {"source.tenant_column", str(&Config::source_tenant_column)},
      {"source.tenant", str(&Config::source_tenant)},
      {"source.exclude_tables", list(&Config::source_exclude_tables)},
      {"state.dir", str(&Config::state_dir)},
      {"state.retain_seconds", num(&Config::state_retain_seconds, 0, 10LL * 365 * 86400)},
      {"state.retain_bytes", num(&Config::state_retain_bytes, 0, 1LL << 50)},
      {"capture.mode", str(&Config::capture_mode, {"wal", "recorder"})},
      {"capture.batch_rows", num(&Config::capture_batch_rows, 1, 100000)},
      {"capture.poll_ms", num(&Config::capture_poll_ms, 10, 60000)},
      {"capture.wal_restart", str(&Config::capture_wal_restart, {"agent", "application"})},
      {"target.pg", str(&Config::target_pg)},
      {"target.schema_mode", str(&Config::target_schema_mode, {"create", "existing"})},
      {"transport.listen", str(&Config::transport_listen)},
      {"transport.connect", str(&Config::transport_connect)},
      {"transport.token_file", str(&Config::transport_token_file)},
      {"transport.max_frame_bytes", num(&Config::transport_max_frame_bytes, 1024, 1LL << 30)},
      {"transport.tls_cert", str(&Config::transport_tls_cert)},
      {"transport.tls_key", str(&Config::transport_tls_key)},
      {"transport.tls_ca", str(&Config::transport_tls_ca)},
      {"transport.tls_server_name", str(&Config::transport_tls_server_name)},
      {"http.listen", str(&Config::http_listen)},
      {"http.apply_listen", str(&Config::http_apply_listen)},
      {"shadow.log", str(&Config::shadow_log)},
      {"shadow.rate", real(&Config::shadow_rate, 0, 1)},
      {"log.format", str(&Config::log_format, {"text", "json"})},
      {"log.level", str(&Config::log_level, {"trace", "debug", "info", "warn", "error", "off"})},
  };
  return *keys;
}

const char* TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string Where(std::string_view name, const toml::node& n) {
  const auto& b = n.source().begin;
  return fmt::format("{}:{}:{}", name, b.line, b.column);
}

Status SetKey(Config& cfg, const KeySpec& spec, const std::string& key, const toml::node& n,
              std::string_view name) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(fmt::format("{}: {}: {}", Where(name, n), key, what));
  };
  if (spec.string_field) {
    const auto* v = n.as_string();
    if (!v) return bad(fmt::format("expected a string, got {}", TypeName(n)));
    const std::string& s = v->get();
    if (!spec.allowed.empty() &&
        std::find(spec.allowed.begin(), spec.allowed.end(), s) == spec.allowed.end()) {
      return bad(fmt::format("'{}' is not one of: {}", s, fmt::join(spec.allowed, ", ")));
    }
    *spec.string_field(cfg) = s;
    return Status::OK();
  }
  if (spec.list_field) {
    const auto* arr = n.as_array();
    if (!arr) return bad(fmt::format("expected an array of strings, got {}", TypeName(n)));
    std::vector<std::string> out;
    for (const toml::node& item : *arr) {
      const auto* sv = item.as_string();
      if (!sv) {
        return Status::InvalidArgument(fmt::format("{}: {}: expected strings, got {}",
                                                   Where(name, item), key, TypeName(item)));
      }
      out.push_back(sv->get());
    }
    *spec.list_field(cfg) = std::move(out);
    return Status::OK();
  }
  if (spec.double_field) {
    std::optional<double> x;
    if (const auto* f = n.as_floating_point()) x = f->get();
    if (const auto* i = n.as_integer()) x = static_cast<double>(i->get());
    if (!x) return bad(fmt::format("expected a number, got {}", TypeName(n)));
    if (!(*x >= spec.dmin && *x <= spec.dmax)) {
      return bad(fmt::format("{} is out of range [{}, {}]", *x, spec.dmin, spec.dmax));
    }
    *spec.double_field(cfg) = *x;
    return Status::OK();
  }
  const auto* v = n.as_integer();
  if (!v) return bad(fmt::format("expected an integer, got {}", TypeName(n)));
  int64_t x = v->get();
  if (x < spec.min || x > spec.max) {
    return bad(fmt::format("{} is out of range [{}, {}]", x, spec.min, spec.max));
  }
  *spec.int_field(cfg) = x;
  return Status::OK();
}

// One [mapping] entry's value: "pg type", or { type = "pg type", unit = "ms", column = "name" }.
// Other keys, neither a type nor a column, or an unknown unit are errors naming their place.
Status MappingValue(const std::string& key, const toml::node& v, std::string_view name,
                    Config::MappingEntry* e) {
  auto bad = [&](const toml::node& at, const std::string& what) {
    return Status::InvalidArgument(fmt::format("{}: mapping.{}: {}", Where(name, at), key, what));
  };
  if (const auto* s = v.as_string()) {
    e->pg_type = s->get();
    return Status::OK();
  }
  const toml::table* t = v.as_table();
  if (!t) {
    return bad(v, fmt::format("expected a type name string or {{ type = ..., unit = ... }}, got {}",
                              TypeName(v)));
  }
  static const std::vector<std::string_view> kUnits = {"s", "ms", "us", "julianday"};
  for (const auto& [k, item] : *t) {
    const auto* s = item.as_string();
    if (k.str() != "type" && k.str() != "unit" && k.str() != "column") {
      return bad(item, fmt::format("unknown key '{}' (expected type, unit, column)", k.str()));
    }
    if (!s) return bad(item, fmt::format("{}: expected a string, got {}", k.str(), TypeName(item)));
    if (k.str() == "type") {
      e->pg_type = s->get();
    } else if (k.str() == "column") {
      if (s->get().empty()) return bad(item, "column: expected the target column's name");
      e->target_column = s->get();
    } else if (std::find(kUnits.begin(), kUnits.end(), s->get()) == kUnits.end()) {
      return bad(item,
                 fmt::format("unit '{}' is not one of: {}", s->get(), fmt::join(kUnits, ", ")));
    } else {
      e->unit = s->get();
    }
  }
  if (e->pg_type.empty() && e->target_column.empty()) {
    return bad(v, "type or column is required (e.g. type = \"timestamptz\")");
  }
  if (e->pg_type.empty() && !e->unit.empty()) {
    return bad(v, "unit needs a type (e.g. type = \"timestamptz(3)\", unit = \"ms\")");
  }
  return Status::OK();
}

// [mapping]: the keys are the user's column names, so it is walked on its own. A key with a
// dot is one column ("table.column"); one without is a table of its columns. The type text is
// checked by `plan`, which knows the types (apply/type_mapping.h).
Status WalkMapping(Config& cfg, const toml::table& mapping, std::string_view name) {
  auto add = [&](const std::string& key, const toml::node& v) {
    Config::MappingEntry e{key, "", Where(name, v), "", ""};
    SQLIFT_RETURN_IF_ERROR(MappingValue(key, v, name, &e));
    cfg.mapping.push_back(std::move(e));
    return Status::OK();
  };
  for (const auto& [k, v] : mapping) {
    std::string key(k.str());
    if (key.find('.') != std::string::npos) {
      SQLIFT_RETURN_IF_ERROR(add(key, v));
      continue;
    }
    const toml::table* per_table = v.as_table();
    if (!per_table) {
      return Status::InvalidArgument(fmt::format(
          "{}: mapping.{}: expected \"table.column\" = \"pg type\"", Where(name, v), key));
    }
    for (const auto& [ck, cv] : *per_table) {
      SQLIFT_RETURN_IF_ERROR(add(key + "." + std::string(ck.str()), cv));
    }
  }
  return Status::OK();
}

// [target.constants]: column = "value" for every table, or a table of them per table.
Status WalkConstants(Config& cfg, const toml::node& n, std::string_view name) {
  auto bad = [&](const toml::node& at, const std::string& what) {
    return Status::InvalidArgument(fmt::format("{}: target.constants: {}", Where(name, at), what));
  };
  const toml::table* t = n.as_table();
  if (!t) return bad(n, fmt::format("expected a table, got {}", TypeName(n)));
  for (const auto& [k, v] : *t) {
    if (const auto* s = v.as_string()) {
      cfg.target_constants.push_back({"", std::string(k.str()), s->get(), Where(name, v)});
      continue;
    }
    const toml::table* per_table = v.as_table();
    if (!per_table) return bad(v, fmt::format("{}: expected a string or a table", k.str()));
    for (const auto& [ck, cv] : *per_table) {
      const auto* s = cv.as_string();
      if (!s) return bad(cv, fmt::format("{}.{}: expected a string", k.str(), ck.str()));
      cfg.target_constants.push_back(
          {std::string(k.str()), std::string(ck.str()), s->get(), Where(name, cv)});
    }
  }
  return Status::OK();
}

Status Walk(Config& cfg, const toml::table& root, std::string_view name) {
  for (const auto& [section_key, section] : root) {
    std::string section_name(section_key.str());
    const toml::table* t = section.as_table();
    if (!t) {
      return Status::InvalidArgument(fmt::format("{}: '{}': expected a [section] table, got {}",
                                                 Where(name, section), section_name,
                                                 TypeName(section)));
    }
    if (section_name == "mapping") {
      SQLIFT_RETURN_IF_ERROR(WalkMapping(cfg, *t, name));
      continue;
    }
    for (const auto& [k, v] : *t) {
      std::string key = section_name + "." + std::string(k.str());
      if (key == "target.constants") {
        SQLIFT_RETURN_IF_ERROR(WalkConstants(cfg, v, name));
        continue;
      }
      auto it = KnownKeys().find(key);
      if (it == KnownKeys().end()) {
        return Status::InvalidArgument(fmt::format(
            "{}: unknown key '{}' (see deploy/sqlift.example.toml)", Where(name, v), key));
      }
      SQLIFT_RETURN_IF_ERROR(SetKey(cfg, it->second, key, v, name));
    }
  }
  return Status::OK();
}

Status Validate(const Config& cfg) {
  auto where = [&](std::string_view key) {
    return cfg.path.empty() ? std::string(key) : cfg.path + ": " + std::string(key);
  };
  if (!cfg.source_id.empty()) {
    for (char c : cfg.source_id) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
        return Status::InvalidArgument(
            fmt::format("{}: '{}' may hold only letters, digits, '_', '-' and '.'",
                        where("source.id"), cfg.source_id));
      }
    }
  }
  if (cfg.transport_tls_cert.empty() != cfg.transport_tls_key.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: set both transport.tls_cert and transport.tls_key (the applier's side of TLS), "
        "or neither",
        where("transport")));
  }
  if (!cfg.source_tenant_column.empty() && !cfg.source_tenant.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: set either source.tenant_column (tenant column) or source.tenant "
                    "(database per tenant), not both",
                    where("source")));
  }
  if (!cfg.target_constants.empty() && cfg.target_schema_mode != "existing") {
    return Status::InvalidArgument(
        fmt::format("{}: target.constants fills columns of an existing target schema: set "
                    "target.schema_mode = \"existing\" (or [source] tenant for the tables sqlift "
                    "creates)",
                    cfg.target_constants.front().where));
  }
  for (const Config::MappingEntry& e : cfg.mapping) {
    if (e.target_column.empty() || cfg.target_schema_mode == "existing") continue;
    return Status::InvalidArgument(
        fmt::format("{}: mapping.{}: column names the existing target's column: set "
                    "target.schema_mode = \"existing\" (sqlift's own schema keeps SQLite's names)",
                    e.where, e.column));
  }
  for (auto [key, value] :
       {std::pair<std::string_view, const std::string*>{"transport.listen", &cfg.transport_listen},
        {"transport.connect", &cfg.transport_connect},
        {"http.listen", &cfg.http_listen},
        {"http.apply_listen", &cfg.http_apply_listen}}) {
    if (value->empty()) continue;
    Result<Endpoint> ep = ParseEndpoint(*value);
    if (!ep.ok()) return ep.status().With(where(key));
  }
  return Status::OK();
}

}  // namespace

Status Config::Require(const std::vector<std::string_view>& dotted_keys,
                       std::string_view command) const {
  std::string missing;
  Config probe = *this;
  for (std::string_view key : dotted_keys) {
    auto it = KnownKeys().find(key);
    if (it == KnownKeys().end() || !it->second.string_field) continue;
    if (!it->second.string_field(probe)->empty()) continue;
    size_t dot = key.find('.');
    missing += fmt::format("\n  [{}] {} is required by `sqlift {}`", key.substr(0, dot),
                           key.substr(dot + 1), command);
  }
  if (missing.empty()) return Status::OK();
  std::string file = path.empty() ? "configuration" : path;
  return Status::InvalidArgument(fmt::format("{} is incomplete:{}", file, missing));
}

Result<Config> ParseConfig(std::string_view text, std::string_view name) {
  Config cfg;
  cfg.path = std::string(name);
  try {
    toml::table root = toml::parse(text, name);
    SQLIFT_RETURN_IF_ERROR(Walk(cfg, root, name));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Status::InvalidArgument(
        fmt::format("{}:{}:{}: {}", name, b.line, b.column, e.description()));
  }
  SQLIFT_RETURN_IF_ERROR(Validate(cfg));
  return cfg;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(fmt::format("configuration file {}: {}", path, std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("read configuration file {}", path));
  return ParseConfig(buf.str(), path);
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("'{}': {} (expected host:port)", text, why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no host");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad("unbalanced [ ] around the IPv6 host");
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) {
    return bad("the port is not a number");
  }
  if (value == 0 || value > 65535) return bad("the port must be 1..65535");
  return Endpoint{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace sqlift
