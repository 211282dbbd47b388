#include "capture/wal/testing/wal_builder.h"

namespace sqlift::wal::testing {
namespace {

void Put32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>(v >> shift));
}

}  // namespace

WalBuilder::WalBuilder(uint32_t page_size, bool big_endian, uint32_t salt1, uint32_t salt2,
                       uint32_t checkpoint_seq)
    : page_size_(page_size), big_endian_(big_endian), salt1_(salt1), salt2_(salt2) {
  Put32(&bytes_, big_endian ? kWalMagicBigEndian : kWalMagicLittleEndian);
  Put32(&bytes_, kWalFormatVersion);
  Put32(&bytes_, page_size);
  Put32(&bytes_, checkpoint_seq);
  Put32(&bytes_, salt1);
  Put32(&bytes_, salt2);
  sum_ = WalChecksumBytes(bytes_, big_endian, {});
  Put32(&bytes_, sum_.s0);
  Put32(&bytes_, sum_.s1);
}

void WalBuilder::AddFrame(uint32_t page_number, uint32_t db_size, char fill) {
  AddFrame(page_number, db_size, std::string(page_size_, fill));
}

void WalBuilder::AddFrame(uint32_t page_number, uint32_t db_size, const std::string& page) {
  std::string header;
  Put32(&header, page_number);
  Put32(&header, db_size);
  sum_ = FrameChecksum(header, page, big_endian_, sum_);
  Put32(&header, salt1_);
  Put32(&header, salt2_);
  Put32(&header, sum_.s0);
  Put32(&header, sum_.s1);
  bytes_ += header;
  bytes_ += page;
}

}  // namespace sqlift::wal::testing
