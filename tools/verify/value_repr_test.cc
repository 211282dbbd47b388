// The one reading of stored values (apply/value_repr.h): time numbers by magnitude or declared
// unit, ISO text with and without zone, implausible instants refused with a reason, booleans
// and decimals classified; and every path that turns a value into PostgreSQL's (fit check,
// text COPY / streamed parameter, binary COPY, verify's canonical form) reading it the same.
#include "apply/translate/value_repr.h"

#include <gtest/gtest.h>

#include <cstring>

#include "apply/translate/value_encoder.h"
#include "proto/wire/frame_test_util.h"
#include "tools/verify/verify_normalize.h"

namespace sqlift {
namespace {

using proto::testing::Blob;
using proto::testing::Int;
using proto::testing::Real;
using proto::testing::Text;

PgType Type(const std::string& pg, TimeUnit unit = TimeUnit::kAuto) {
  PgType t = *ParsePgType(pg);
  t.unit = unit;
  return t;
}

// The UTC instant as PgTextOf spells it without the zone, or "ERROR: <reason>".
std::string Instant(const wire::Value& v, const PgType& t) {
  Result<int64_t> us = InstantOf(v, t);
  return us.ok() ? InstantText(*us, false) : "ERROR: " + us.status().message();
}

const PgType kTz = Type("timestamptz");

TEST(ValueRepr, IntegersAreReadByMagnitude) {
  EXPECT_EQ(Instant(Int(1764979200), kTz), "2025-12-06 00:00:00");            // seconds
  EXPECT_EQ(Instant(Int(1764979200000), kTz), "2025-12-06 00:00:00");         // milliseconds
  EXPECT_EQ(Instant(Int(1764979200123), kTz), "2025-12-06 00:00:00.123000");  // milliseconds
  EXPECT_EQ(Instant(Int(1764979200000000), kTz), "2025-12-06 00:00:00");      // microseconds
  EXPECT_EQ(Instant(Int(-86400), kTz), "1969-12-31 00:00:00");
  // The band edges: just under 1e11 is seconds (year 5138), 1e11 is milliseconds (1973).
  EXPECT_EQ(Instant(Int(99999999999), kTz), "5138-11-16 09:46:39");
  EXPECT_EQ(Instant(Int(100000000000), kTz), "1973-03-03 09:46:40");
  EXPECT_EQ(Instant(Int(100000000000000), kTz), "1973-03-03 09:46:40");
  EXPECT_EQ(ReprOf(Int(1764979200), kTz), Repr::kUnixSeconds);
  EXPECT_EQ(ReprOf(Int(1764979200000), kTz), Repr::kUnixMillis);
  EXPECT_EQ(ReprOf(Int(1764979200000000), kTz), Repr::kUnixMicros);
}

TEST(ValueRepr, RealsAreUnixNumbersWithTheirFraction) {
  EXPECT_EQ(Instant(Real(1.5), kTz), "1970-01-01 00:00:01.500000");
  EXPECT_EQ(Instant(Real(1764979200.25), kTz), "2025-12-06 00:00:00.250000");
  EXPECT_EQ(Instant(Real(1764979200123.0), kTz), "2025-12-06 00:00:00.123000");
  EXPECT_EQ(ReprOf(Real(1764979200123.0), kTz), Repr::kUnixMillis);
}

TEST(ValueRepr, IsoTextWithAndWithoutZone) {
  EXPECT_EQ(Instant(Text("2025-12-06T00:00:00.000Z"), kTz), "2025-12-06 00:00:00");
  EXPECT_EQ(Instant(Text("2025-12-06 00:00:00 +00:00"), kTz), "2025-12-06 00:00:00");  // Prisma
  EXPECT_EQ(Instant(Text("2025-12-06 02:00:00+02:00"), kTz), "2025-12-06 00:00:00");
  EXPECT_EQ(Instant(Text("2025-12-06 00:00:00"), kTz), "2025-12-06 00:00:00");  // UTC
  EXPECT_EQ(Instant(Text("2025-12-06"), kTz), "2025-12-06 00:00:00");
  EXPECT_EQ(Instant(Text("2025-12-06 05:30:00.5-05:30"), kTz), "2025-12-06 11:00:00.500000");
  // timestamp ignores the zone, as PostgreSQL's timestamp_in does.
  EXPECT_EQ(Instant(Text("2025-12-06 02:00:00+02:00"), Type("timestamp")), "2025-12-06 02:00:00");
  EXPECT_EQ(ReprOf(Text("2025-12-06T00:00:00.000Z"), kTz), Repr::kIsoZoned);
  EXPECT_EQ(ReprOf(Text("2025-12-06 00:00:00 +00:00"), kTz), Repr::kIsoZoned);
  EXPECT_EQ(ReprOf(Text("2025-12-06 00:00:00"), kTz), Repr::kIsoLocal);
  EXPECT_EQ(ReprOf(Text("yesterday"), kTz), Repr::kNone);
}

TEST(ValueRepr, ImplausibleInstantsDoNotFitAndSayWhy) {
  EXPECT_EQ(Instant(Int(100000000000000000), kTz),
            "ERROR: a number too large for unix seconds, milliseconds or microseconds "
            "(|v| >= 1e17); declare its unit in [mapping]");
  EXPECT_EQ(Instant(Int(-99999999999), kTz),
            "ERROR: read as unix seconds, it is year -1199 (UTC), outside 1..9999");
  // A declared unit is taken at its word: milliseconds read as seconds are year 57899.
  EXPECT_EQ(Instant(Int(1764979200000), Type("timestamptz", TimeUnit::kSeconds)),
            "ERROR: read as unix seconds, it is year 57899 (UTC), outside 1..9999");
  EXPECT_EQ(Instant(Int(99999999999999999), Type("timestamptz", TimeUnit::kMillis)),
            "ERROR: read as unix milliseconds, it is year 3170843 (UTC), outside 1..9999");
  EXPECT_EQ(Instant(Text("0000-01-01"), kTz), "ERROR: year 0 does not exist");
  EXPECT_EQ(Instant(Text("0001-01-01 00:00:00+01:00"), kTz),
            "ERROR: it is year 0 (UTC), outside 1..9999");
  EXPECT_EQ(Instant(Real(std::numeric_limits<double>::infinity()), kTz), "ERROR: not finite");
  EXPECT_EQ(Instant(Blob("x"), kTz), "ERROR: not a time");
  EXPECT_TRUE(WhyValueDoesNotFit(Int(100000000000000000), kTz).has_value());
  EXPECT_FALSE(WhyValueDoesNotFit(Int(99999999999999999), kTz).has_value());  // us: year 5138
}

TEST(ValueRepr, DeclaredUnitWinsOverMagnitude) {
  EXPECT_EQ(Instant(Int(1764979200), Type("timestamptz", TimeUnit::kMillis)),
            "1970-01-21 10:16:19.200000");
  EXPECT_EQ(Instant(Int(1764979200000), Type("timestamptz", TimeUnit::kMicros)),
            "1970-01-21 10:16:19.200000");
  EXPECT_EQ(Instant(Int(5), Type("timestamptz", TimeUnit::kMillis)), "1970-01-01 00:00:00.005000");
  EXPECT_EQ(ReprOf(Int(5), Type("timestamptz", TimeUnit::kMillis)), Repr::kUnixMillis);
  // Julian days as SQLite's julianday() writes them (milliseconds kept, as SQLite keeps them).
  PgType jd = Type("timestamptz", TimeUnit::kJulianDay);
  EXPECT_EQ(Instant(Real(2440587.5), jd), "1970-01-01 00:00:00");
  EXPECT_EQ(Instant(Real(2461015.5), jd), "2025-12-06 00:00:00");
  EXPECT_EQ(Instant(Int(2461016), jd), "2025-12-06 12:00:00");
  EXPECT_EQ(ReprOf(Real(2461015.5), jd), Repr::kJulianDay);
  // Text is ISO whatever the unit.
  EXPECT_EQ(Instant(Text("2025-12-06T00:00:00Z"), jd), "2025-12-06 00:00:00");
}

TEST(ValueRepr, PrecisionRoundsAsPostgresDoes) {
  PgType ms = Type("timestamptz(3)");
  EXPECT_EQ(ms.sql, "timestamptz(3)");
  EXPECT_EQ(ms.kind, PgType::Kind::kTimestamptz);
  EXPECT_EQ(Instant(Text("2025-12-06 00:00:00.1234"), ms), "2025-12-06 00:00:00.123000");
  EXPECT_EQ(Instant(Text("2025-12-06 00:00:00.1235"), ms), "2025-12-06 00:00:00.124000");
  // Half away from zero on PostgreSQL's epoch (2000): before 2000 rounds down in time.
  EXPECT_EQ(Instant(Text("1990-01-01 00:00:00.0005"), ms), "1990-01-01 00:00:00");
  EXPECT_EQ(Instant(Text("1990-01-01 00:00:00.0015"), ms), "1990-01-01 00:00:00.001000");
  EXPECT_EQ(Instant(Real(1.0005), Type("timestamptz(0)")), "1970-01-01 00:00:01");
  EXPECT_FALSE(ParsePgType("timestamptz(7)").ok());
}

TEST(ValueRepr, BooleansAndDecimals) {
  PgType b = Type("boolean"), n = Type("numeric(12,2)");
  EXPECT_EQ(ReprOf(Int(1), b), Repr::kBool01);
  EXPECT_EQ(ReprOf(Text("0"), b), Repr::kBool01);
  EXPECT_EQ(ReprOf(Text("TRUE"), b), Repr::kBoolWord);
  EXPECT_EQ(ReprOf(Text("f"), b), Repr::kBoolLetter);
  EXPECT_EQ(ReprOf(Text("yes"), b), Repr::kNone);
  EXPECT_EQ(ReprOf(Int(12), n), Repr::kDecimalInteger);
  EXPECT_EQ(ReprOf(Real(12.5), n), Repr::kDecimalReal);
  EXPECT_EQ(ReprOf(Text("12.50"), n), Repr::kDecimalText);
  EXPECT_EQ(ReprOf(Text("x"), Type("text")), Repr::kNone);
  EXPECT_EQ(ReprName(Repr::kUnixMillis), "unix milliseconds");
}

// The binary COPY field of a timestamp as unix microseconds.
int64_t BinaryMicros(const std::string& field) {
  uint64_t be = 0;
  std::memcpy(&be, field.data() + 4, 8);
  return static_cast<int64_t>(__builtin_bswap64(be)) + 10957 * 86'400'000'000LL;
}

// Each value through every path: the fit check, the text form (text COPY, and streamed changes
// bind the same PgTextOf text), the binary COPY form and verify's canonical form of the SQLite
// value must all say the same instant, or all refuse it.
TEST(ValueRepr, EveryPathReadsTheSameInstant) {
  const std::vector<wire::Value> values = {Int(1764979200),
                                           Int(1764979200000),
                                           Int(1764979200123456),
                                           Int(-1),
                                           Real(1764979200.5),
                                           Real(1764979200123.0),
                                           Text("2025-12-06T00:00:00.000Z"),
                                           Text("2025-12-06 00:00:00 +00:00"),
                                           Text("2025-12-06 01:00:00+01:00"),
                                           Text("2025-12-06"),
                                           Text("2025-12-06 00:00:00.1235"),
                                           Int(100000000000000000),
                                           Int(-99999999999),
                                           Text("0000-01-01"),
                                           Text("not a time")};
  for (const PgType& t : {Type("timestamptz"), Type("timestamp"), Type("timestamptz(3)"),
                          Type("timestamptz", TimeUnit::kMillis)}) {
    for (const wire::Value& v : values) {
      SCOPED_TRACE(t.sql + " " + v.DebugString());
      Result<int64_t> want = InstantOf(v, t);
      Result<std::string> text = PgTextOf(v, t);
      std::string binary;
      Status bin = AppendBinaryField(v, t, &binary);
      CanonicalValue canon = CanonicalFromSqlite(v, t);
      std::optional<std::string> why = WhyValueDoesNotFit(v, t);
      ASSERT_EQ(text.ok(), want.ok());
      ASSERT_EQ(bin.ok(), want.ok());
      ASSERT_EQ(!why, want.ok());
      if (!want.ok()) {
        EXPECT_EQ(canon.kind, CanonicalValue::Kind::kUnfit);
        EXPECT_EQ(*why, want.status().message());
        continue;
      }
      const bool zone = t.kind == PgType::Kind::kTimestamptz;
      EXPECT_EQ(*text, InstantText(*want, zone));
      EXPECT_EQ(BinaryMicros(binary), *want);
      EXPECT_EQ(canon.text, CanonicalTimestamp(InstantText(*want, zone), zone));
      // What PostgreSQL prints back (UTC, ISO) canonicalizes to the same text.
      EXPECT_EQ(CanonicalFromPg(InstantText(*want, zone), t), canon.text);
    }
  }
}

}  // namespace
}  // namespace sqlift
