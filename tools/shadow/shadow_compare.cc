#include "tools/shadow/shadow_compare.h"

#include <fmt/format.h>

#include <unordered_map>

namespace sqlift {
namespace {

// A row as bytes that tell NULL from '' and never run two values together.
std::string Encode(const CanonicalRow& row) {
  std::string out;
  for (const CanonicalValue& v : row) {
    out.push_back(static_cast<char>(v.kind));
    out += fmt::format("{}:", v.text.size());
    out += v.text;
  }
  return out;
}

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return Mix(h);
}

std::string Rows(int64_t n) {
  return fmt::format("{} {}", n, n == 1 ? "row" : "rows");
}

using Counts = std::unordered_map<std::string, int64_t>;

Counts CountRows(const std::vector<CanonicalRow>& rows) {
  Counts c;
  for (const CanonicalRow& r : rows)
    ++c[Encode(r)];
  return c;
}

// The first row of `rows` that occurs more often in `rows` than in `other`.
std::optional<std::vector<std::string>> FirstUnmatched(const std::vector<CanonicalRow>& rows,
                                                       const Counts& own, const Counts& other) {
  for (const CanonicalRow& r : rows) {
    std::string key = Encode(r);
    auto it = other.find(key);
    if (it == other.end() || it->second < own.at(key)) return PrintableRow(r);
  }
  return std::nullopt;
}

}  // namespace

void ResultSide::Add(const CanonicalRow& row) {
  std::string bytes = Encode(row);
  uint64_t h = Fnv1a(bytes);
  sum_ += h;
  mixed_sum_ += Mix(h ^ 0x5bd1e995ull);
  ordered_ = Mix(ordered_ * 0x100000001b3ull + h);
  if (++rows_ <= static_cast<int64_t>(max_rows_)) {
    kept_.push_back(row);
  } else if (!kept_.empty()) {
    kept_.clear();  // over the cap: fingerprints only
    kept_.shrink_to_fit();
  }
}

bool ResultSide::SameMultiset(const ResultSide& o) const {
  return rows_ == o.rows_ && sum_ == o.sum_ && mixed_sum_ == o.mixed_sum_;
}

bool ResultSide::SameSequence(const ResultSide& o) const {
  return SameMultiset(o) && ordered_ == o.ordered_;
}

std::vector<std::string> PrintableRow(const CanonicalRow& row) {
  std::vector<std::string> out;
  out.reserve(row.size());
  for (const CanonicalValue& v : row)
    out.push_back(PrintableValue(v));
  return out;
}

RowsComparison CompareResults(const ResultSide& sqlite, const ResultSide& pg, bool ordered) {
  RowsComparison c;
  if (sqlite.columns() != pg.columns()) {
    c.verdict = RowsVerdict::kDifferent;
    c.detail = fmt::format("{} column{} on SQLite, {} on PostgreSQL", sqlite.columns(),
                           sqlite.columns() == 1 ? "" : "s", pg.columns());
    return c;
  }
  const bool kept = sqlite.kept_all() && pg.kept_all();
  if (!sqlite.SameMultiset(pg)) {
    c.verdict = RowsVerdict::kDifferent;
    c.detail = sqlite.rows() == pg.rows()
                   ? fmt::format("{} on each side, not the same rows", Rows(sqlite.rows()))
                   : fmt::format("{} on SQLite, {} on PostgreSQL", Rows(sqlite.rows()), pg.rows());
    if (!kept) {
      c.detail += "; too many rows to keep examples";
      return c;
    }
    Counts s = CountRows(sqlite.kept()), p = CountRows(pg.kept());
    c.sqlite_row = FirstUnmatched(sqlite.kept(), s, p);
    c.pg_row = FirstUnmatched(pg.kept(), p, s);
    return c;
  }
  if (!ordered || sqlite.SameSequence(pg)) return c;
  c.verdict = RowsVerdict::kOrderDiffers;
  c.detail = fmt::format("the same {} in a different order", Rows(sqlite.rows()));
  if (!kept) return c;
  for (size_t i = 0; i < sqlite.kept().size(); ++i) {
    if (sqlite.kept()[i] == pg.kept()[i]) continue;
    c.position = static_cast<int64_t>(i);
    c.sqlite_row = PrintableRow(sqlite.kept()[i]);
    c.pg_row = PrintableRow(pg.kept()[i]);
    break;
  }
  return c;
}

}  // namespace sqlift
