// PageTable<V>: a map from page number to V for the per-transaction bookkeeping of the row
// change decoder (row_changes.cc): open addressing in two flat arrays, so that looking a page
// up or adding one allocates nothing once the table has grown to a transaction's size, and
// Clear keeps the memory for the next transaction.
//
// Page number 0 (never a page of a database) marks a free slot and cannot be a key. There is
// no erase: the decoder marks instead. V is default-constructible (not bool: use char). Pointers
// returned stay valid until the next Insert or Clear. Thread safety: none; a value owned by one
// decoder.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <utility>
#include <vector>

namespace sqlift::wal {

template <typename V>
class PageTable {
 public:
  V* Find(uint32_t page) {
    if (size_ == 0) return nullptr;
    for (size_t i = Slot(page);; i = (i + 1) & mask_) {
      if (keys_[i] == page) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }
  const V* Find(uint32_t page) const { return const_cast<PageTable*>(this)->Find(page); }
  bool Contains(uint32_t page) const { return Find(page) != nullptr; }

  // The value of `page` (a new V() when absent), and whether it was added. `page` != 0.
  std::pair<V*, bool> Insert(uint32_t page) {
    if ((size_ + 1) * 2 > keys_.size()) Grow();
    for (size_t i = Slot(page);; i = (i + 1) & mask_) {
      if (keys_[i] == page) return {&values_[i], false};
      if (keys_[i] == 0) {
        keys_[i] = page;
        values_[i] = V();
        ++size_;
        return {&values_[i], true};
      }
    }
  }
  V& operator[](uint32_t page) { return *Insert(page).first; }

  // Empties the table; a table that grew far beyond what it held is given back.
  void Clear() {
    if (size_ == 0) return;
    if (keys_.size() > 1024 && size_ * 16 < keys_.size()) {
      keys_.clear();
      values_.clear();
      mask_ = 0;
      shift_ = 63;
    } else {
      std::fill(keys_.begin(), keys_.end(), 0u);
    }
    size_ = 0;
  }
  size_t size() const { return size_; }

 private:
  // Fibonacci hashing: the product's high bits, so strided page numbers spread too.
  size_t Slot(uint32_t page) const {
    return static_cast<size_t>((page * uint64_t{0x9E3779B97F4A7C15}) >> shift_) & mask_;
  }

  void Grow() {
    std::vector<uint32_t> keys = std::move(keys_);
    std::vector<V> values = std::move(values_);
    const size_t capacity = std::max<size_t>(16, keys.size() * 2);
    keys_.assign(capacity, 0u);
    values_.clear();
    values_.resize(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != 0) {
        auto [v, added] = Insert(keys[i]);
        *v = std::move(values[i]);
      }
    }
  }

  std::vector<uint32_t> keys_;  // 0: free
  std::vector<V> values_;
  size_t mask_ = 0;
  int shift_ = 63;
  size_t size_ = 0;
};

}  // namespace sqlift::wal
