#include "literal_scanner.h"

#include <algorithm>
#include <deque>

namespace mamori::rules::internal {

namespace {

unsigned char Fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

constexpr std::uint32_t kNone = 0xffffffffu;

}  // namespace

int LiteralScanner::Add(std::string_view key) {
  std::string folded(key);
  for (auto& c : folded) c = static_cast<char>(Fold(static_cast<unsigned char>(c)));
  keys_.push_back(std::move(folded));
  return n_keys_++;
}

std::size_t LiteralScanner::memory_bytes() const {
  return (table_.size() + out_state_.size() + out_begin_.size()) * sizeof(std::uint32_t) +
         dict_.size() * sizeof(std::int32_t) + outs_.size() * sizeof(int);
}

void LiteralScanner::Build(std::size_t dense_max_bytes) {
  // Byte classes: every distinct folded byte of the keys gets one; the rest share class 0.
  classes_.fill(0);
  n_classes_ = 1;
  for (const auto& k : keys_) {
    for (unsigned char c : k) {
      if (classes_[c] == 0) classes_[c] = static_cast<std::uint8_t>(n_classes_++);
    }
  }
  for (int c = 'A'; c <= 'Z'; ++c) classes_[c] = classes_[c + 32];
  const std::uint32_t nc = n_classes_;

  // The trie (kNone = no edge yet) and each state's own outputs.
  std::vector<std::uint32_t> next(nc, kNone);
  std::vector<std::vector<int>> own(1);
  for (int id = 0; id < n_keys_; ++id) {
    std::uint32_t s = 0;
    for (unsigned char c : keys_[id]) {
      std::uint32_t& t = next[s * nc + classes_[c]];
      if (t == kNone) {
        t = static_cast<std::uint32_t>(own.size());
        own.emplace_back();
        next.resize(next.size() + nc, kNone);
      }
      s = next[s * nc + classes_[c]];
    }
    own[s].push_back(id);
  }
  const std::size_t n_states = own.size();

  // Breadth first: failure links, then the missing edges from the failure state's.
  std::vector<std::uint32_t> fail(n_states, 0);
  dict_.assign(n_states, -1);
  std::deque<std::uint32_t> queue;
  for (std::uint32_t c = 0; c < nc; ++c) {
    std::uint32_t& t = next[c];
    if (t == kNone) {
      t = 0;
    } else {
      queue.push_back(t);
    }
  }
  while (!queue.empty()) {
    std::uint32_t s = queue.front();
    queue.pop_front();
    std::uint32_t f = fail[s];
    dict_[s] = !own[f].empty() ? static_cast<std::int32_t>(f) : dict_[f];
    if (s == 0) dict_[s] = -1;
    for (std::uint32_t c = 0; c < nc; ++c) {
      std::uint32_t& t = next[s * nc + c];
      if (t == kNone) {
        t = next[f * nc + c];
      } else {
        fail[t] = next[f * nc + c];
        queue.push_back(t);
      }
    }
  }
  out_begin_.assign(n_states + 1, 0);
  outs_.clear();
  for (std::size_t s = 0; s < n_states; ++s) {
    out_begin_[s] = static_cast<std::uint32_t>(outs_.size());
    outs_.insert(outs_.end(), own[s].begin(), own[s].end());
  }
  out_begin_[n_states] = static_cast<std::uint32_t>(outs_.size());
  std::vector<char> has_out(n_states);
  for (std::size_t s = 0; s < n_states; ++s) has_out[s] = !own[s].empty() || dict_[s] >= 0;
  has_out[0] = 0;  // the root: no key is empty (Add's contract; an empty key never reports)
  BuildTable(next, has_out, dense_max_bytes);
  keys_.clear();
  keys_.shrink_to_fit();
}

void LiteralScanner::BuildTable(const std::vector<std::uint32_t>& next,
                                const std::vector<char>& has_out, std::size_t dense_max_bytes) {
  const std::size_t n_states = has_out.size();
  const std::uint32_t nc = n_classes_;
  const bool dense = (n_states * 256 + 1) * sizeof(std::uint32_t) <= dense_max_bytes;
  stride_ = dense ? 256 : nc + (nc & 1);  // even: rows keep the parity of their offsets
  // Rows without outputs at even offsets from 0, one entry of padding, rows with outputs at odd
  // offsets.
  std::vector<std::uint32_t> offset(n_states);
  std::uint32_t plain = 0;
  for (std::size_t st = 0; st < n_states; ++st) {
    if (!has_out[st]) {
      offset[st] = plain;
      plain += stride_;
    }
  }
  out_base_ = plain + 1;
  std::uint32_t out = out_base_;
  out_state_.clear();
  for (std::size_t st = 0; st < n_states; ++st) {
    if (has_out[st]) {
      offset[st] = out;
      out += stride_;
      out_state_.push_back(static_cast<std::uint32_t>(st));
    }
  }
  table_.assign(static_cast<std::size_t>(out), 0);
  for (std::size_t st = 0; st < n_states; ++st) {
    std::uint32_t* row = table_.data() + offset[st];
    if (dense) {
      for (int b = 0; b < 256; ++b) row[b] = offset[next[st * nc + classes_[b]]];
    } else {
      for (std::uint32_t c = 0; c < nc; ++c) row[c] = offset[next[st * nc + c]];
    }
  }
  int starts = 0;
  for (int b = 0; b < 256; ++b) {
    root_stay_[b] = table_[dense ? static_cast<std::uint32_t>(b) : classes_[b]] == 0 ? 1 : 0;
    starts += 1 - root_stay_[b];
  }
  root_skip_ = starts <= kMaxSkipStarts;
}

}  // namespace mamori::rules::internal
