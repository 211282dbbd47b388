#include "tools/verify/verify_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "common/base/text.h"

namespace sqlift {
namespace {

// FNV-1a, then MurmurHash3's finalizer so that the top bits (the bucket) depend on every
// byte: FNV-1a alone leaves the high bits of short keys poorly mixed.
uint64_t Hash64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes)
    h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 33, h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

// Encoded values: a kind byte, then (not for NULL) a 4-byte length and the bytes, so no two
// different rows encode alike (NULL ≠ '', ('a','') ≠ ('','a')).
void Encode(const CanonicalValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.kind));
  if (v.kind == CanonicalValue::Kind::kNull) return;
  auto n = static_cast<uint32_t>(v.text.size());
  char len[4];
  std::memcpy(len, &n, 4);
  out->append(len, 4);
  out->append(v.text);
}

CanonicalRow Decode(std::string_view bytes) {
  CanonicalRow row;
  size_t i = 0;
  while (i < bytes.size()) {
    CanonicalValue v;
    v.kind = static_cast<CanonicalValue::Kind>(bytes[i++]);
    if (v.kind != CanonicalValue::Kind::kNull) {
      uint32_t n = 0;
      std::memcpy(&n, bytes.data() + i, 4);
      v.text.assign(bytes.substr(i + 4, n));
      i += 4 + n;
    }
    row.push_back(std::move(v));
  }
  return row;
}

struct Bucket {
  uint64_t count = 0, sum = 0;
  bool operator==(const Bucket&) const = default;
};

// Reused buffers for one row's encoded key and values.
struct Encoded {
  std::string key, row;
  void Set(const CanonicalRow& r, const std::vector<size_t>& key_columns) {
    key.clear(), row.clear();
    for (const CanonicalValue& v : r)
      Encode(v, &row);
    if (key_columns.empty()) {
      key = row;
      return;
    }
    for (size_t k : key_columns)
      Encode(k < r.size() ? r[k] : CanonicalValue{}, &key);
  }
};

size_t BucketOf(std::string_view key, int bits) {
  return Hash64(key) >> (64 - bits);
}

// Step 1: per-bucket (count, sum of row hashes) of one side.
Status SumSide(VerifyTableReader& reader, const VerifyOptions& o, std::vector<Bucket>* buckets,
               int64_t* rows) {
  buckets->assign(size_t{1} << o.bucket_bits, Bucket{});
  Encoded e;
  return reader.Scan([&](const CanonicalRow& r) {
    e.Set(r, o.key_columns);
    Bucket& b = (*buckets)[BucketOf(e.key, o.bucket_bits)];
    ++b.count, b.sum += Hash64(e.row);
    ++*rows;
    return Status::OK();
  });
}

struct Kept {
  std::string row;  // the first row seen with this key
  int64_t n = 0;    // rows with this key (more than one only without a primary key)
};
using KeptRows = std::unordered_map<std::string, Kept>;

// Step 2: the rows of the chosen buckets.
Status KeepRows(VerifyTableReader& reader, const VerifyOptions& o, const std::vector<bool>& chosen,
                KeptRows* kept) {
  Encoded e;
  return reader.Scan([&](const CanonicalRow& r) {
    e.Set(r, o.key_columns);
    if (!chosen[BucketOf(e.key, o.bucket_bits)]) return Status::OK();
    Kept& k = (*kept)[e.key];
    if (k.n++ == 0) k.row = e.row;
    return Status::OK();
  });
}

// The value of a key part that is an integer, else nullopt (no error text: this runs in sorts).
std::optional<int64_t> AsInteger(const std::string& s) {
  int64_t n;
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return n;
  return std::nullopt;
}

// Keys in a stable, readable order: NULL first, integers by value, then other text by bytes.
bool KeyLess(const std::string& a, const std::string& b) {
  CanonicalRow x = Decode(a), y = Decode(b);
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (x[i] == y[i]) continue;
    if (x[i].kind != y[i].kind) return x[i].kind < y[i].kind;
    std::optional<int64_t> xi = AsInteger(x[i].text), yi = AsInteger(y[i].text);
    if (xi && yi) return *xi < *yi;
    if (xi.has_value() != yi.has_value()) return xi.has_value();
    return x[i].text < y[i].text;
  }
  return x.size() < y.size();
}

std::string PrintableKey(const std::string& encoded) {
  std::string out = "(";
  for (const CanonicalValue& v : Decode(encoded))
    out += (out.size() > 1 ? ", " : "") + PrintableValue(v);
  return out + ")";
}

RowDiffExample Example(RowDiffKind kind, const std::string& key, const Kept* s, const Kept* p,
                       const VerifyOptions& o) {
  RowDiffExample ex{kind, PrintableKey(key), {}, {}, {}};
  CanonicalRow sr = s ? Decode(s->row) : CanonicalRow{}, pr = p ? Decode(p->row) : CanonicalRow{};
  size_t n = std::max(sr.size(), pr.size());
  for (size_t i = 0; i < n; ++i) {
    if (s && p && i < sr.size() && i < pr.size() && sr[i] == pr[i]) continue;
    ex.columns.push_back(i < o.column_names.size() ? o.column_names[i] : fmt::format("#{}", i));
    if (s) ex.sqlite.push_back(i < sr.size() ? PrintableValue(sr[i]) : "(none)");
    if (p) ex.pg.push_back(i < pr.size() ? PrintableValue(pr[i]) : "(none)");
  }
  return ex;
}

// Step 3: rows matched by key, counted, the first few of each kind kept.
void Diff(const KeptRows& sqlite, const KeptRows& pg, const VerifyOptions& o, TableComparison* c) {
  std::vector<std::string> keys[3];  // by RowDiffKind
  for (const auto& [key, s] : sqlite) {
    auto it = pg.find(key);
    int64_t pn = it == pg.end() ? 0 : it->second.n;
    if (it != pg.end() && it->second.row != s.row) ++c->different, keys[0].push_back(key);
    if (s.n > pn) c->missing += s.n - pn, keys[1].push_back(key);
  }
  for (const auto& [key, p] : pg) {
    auto it = sqlite.find(key);
    int64_t sn = it == sqlite.end() ? 0 : it->second.n;
    if (p.n > sn) c->extra += p.n - sn, keys[2].push_back(key);
  }
  for (int k = 0; k < 3; ++k) {
    size_t n = std::min(o.max_examples, keys[k].size());
    std::partial_sort(keys[k].begin(), keys[k].begin() + static_cast<ptrdiff_t>(n), keys[k].end(),
                      KeyLess);
    for (size_t i = 0; i < n; ++i) {
      auto s = sqlite.find(keys[k][i]);
      auto p = pg.find(keys[k][i]);
      c->examples.push_back(Example(static_cast<RowDiffKind>(k), keys[k][i],
                                    k == 2 ? nullptr : &s->second, k == 1 ? nullptr : &p->second,
                                    o));
    }
  }
}

}  // namespace

const char* RowDiffName(RowDiffKind k) {
  switch (k) {
    case RowDiffKind::kDifferent:
      return "different";
    case RowDiffKind::kMissing:
      return "missing";
    case RowDiffKind::kExtra:
      return "extra";
  }
  return "?";
}

std::string PrintableValue(const CanonicalValue& v) {
  if (v.kind == CanonicalValue::Kind::kNull) return "NULL";
  if (v.kind == CanonicalValue::Kind::kUnfit) return "unfit (" + v.text + ")";
  const std::string& s = v.text;
  if (s.find('\0') != std::string::npos || !IsValidUtf8(s)) {
    std::string hex = "x'";
    for (unsigned char c : s)
      hex += fmt::format("{:02x}", c);
    return hex + "'";
  }
  bool number = !s.empty() && s.find_first_not_of("-0123456789.") == std::string::npos &&
                std::isdigit(static_cast<unsigned char>(s.back()));
  if (number) return s;
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void EncodeCanonical(const CanonicalValue& v, std::string* out) {
  Encode(v, out);
}

uint64_t CanonicalHash64(std::string_view bytes) {
  return Hash64(bytes);
}

Status WireTableReader::Scan(const RowSink& sink) {
  CanonicalRow row(types_.size());
  return read_([&](const wire::Row& r) {
    for (size_t i = 0; i < row.size(); ++i) {
      int at = static_cast<int>(i);
      row[i] =
          at < r.values_size() ? CanonicalFromSqlite(r.values(at), types_[i]) : CanonicalValue{};
    }
    return sink(row);
  });
}

Result<TableComparison> CompareTable(VerifyTableReader& sqlite, VerifyTableReader& pg,
                                     const VerifyOptions& o) {
  TableComparison c;
  std::vector<Bucket> sb, pb;
  SQLIFT_RETURN_IF_ERROR(SumSide(sqlite, o, &sb, &c.sqlite_rows).With("read SQLite rows"));
  SQLIFT_RETURN_IF_ERROR(SumSide(pg, o, &pb, &c.pg_rows).With("read PostgreSQL rows"));
  std::vector<bool> chosen(sb.size(), false);
  size_t budget = o.max_rows_kept;
  for (size_t i = 0; i < sb.size(); ++i) {
    if (sb[i] == pb[i]) continue;
    ++c.differing_buckets;
    size_t rows = std::max(sb[i].count, pb[i].count);
    if (rows > budget) continue;  // kept whole or not at all; smaller buckets may still fit
    budget -= rows, chosen[i] = true, ++c.examined_buckets;
  }
  if (c.examined_buckets == 0) return c;
  KeptRows sk, pk;
  SQLIFT_RETURN_IF_ERROR(KeepRows(sqlite, o, chosen, &sk).With("read SQLite rows again"));
  SQLIFT_RETURN_IF_ERROR(KeepRows(pg, o, chosen, &pk).With("read PostgreSQL rows again"));
  Diff(sk, pk, o, &c);
  return c;
}

}  // namespace sqlift
