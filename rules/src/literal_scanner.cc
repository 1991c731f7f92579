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
  return (next_.size() + dense_.size() + dense_out_state_.size()) * sizeof(std::uint32_t) +
         dict_.size() * sizeof(std::int32_t) + out_begin_.size() * sizeof(std::uint32_t) +
         outs_.size() * sizeof(int);
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
  next_.assign(nc, kNone);
  std::vector<std::vector<int>> own(1);
  for (int id = 0; id < n_keys_; ++id) {
    std::uint32_t s = 0;
    for (unsigned char c : keys_[id]) {
      std::uint32_t& t = next_[s * nc + classes_[c]];
      if (t == kNone) {
        t = static_cast<std::uint32_t>(own.size());
        own.emplace_back();
        next_.resize(next_.size() + nc, kNone);
      }
      s = next_[s * nc + classes_[c]];
    }
    own[s].push_back(id);
  }
  const std::size_t n_states = own.size();

  // Breadth first: failure links, then the missing edges from the failure state's.
  std::vector<std::uint32_t> fail(n_states, 0);
  dict_.assign(n_states, -1);
  std::deque<std::uint32_t> queue;
  for (std::uint32_t c = 0; c < nc; ++c) {
    std::uint32_t& t = next_[c];
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
      std::uint32_t& t = next_[s * nc + c];
      if (t == kNone) {
        t = next_[f * nc + c];
      } else {
        fail[t] = next_[f * nc + c];
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
  for (std::size_t st = 0; st < n_states; ++st) has_out[st] = !own[st].empty() || dict_[st] >= 0;
  BuildDense(has_out, dense_max_bytes);
  for (auto& t : next_) {
    const bool out = has_out[t];
    t *= nc;
    if (out) t |= kOutput;
  }
  for (int b = 0; b < 256; ++b) root_stay_[b] = next_[classes_[b]] == 0 ? 1 : 0;
  keys_.clear();
  keys_.shrink_to_fit();
  if (!dense_.empty()) {  // the class table is not needed
    next_.clear();
    next_.shrink_to_fit();
  }
}

void LiteralScanner::BuildDense(const std::vector<char>& has_out, std::size_t max_bytes) {
  dense_.clear();
  dense_out_state_.clear();
  const std::size_t n_states = has_out.size();
  const std::size_t n_out = static_cast<std::size_t>(std::count(has_out.begin(), has_out.end(), 1));
  // Rows without outputs at even offsets from 0, one entry of padding, rows with outputs at odd
  // offsets. The root has no outputs (keys are not empty).
  const std::size_t entries = n_states * 256 + 1;
  if (entries * sizeof(std::uint32_t) > max_bytes || entries >= (std::size_t{1} << 31)) return;
  if (has_out[0]) return;  // an empty key (not allowed by Add's contract): the root reports
  std::vector<std::uint32_t> offset(n_states);
  std::uint32_t plain = 0;
  for (std::size_t st = 0; st < n_states; ++st) {
    if (!has_out[st]) {
      offset[st] = plain;
      plain += 256;
    }
  }
  dense_out_base_ = plain + 1;
  std::uint32_t out = dense_out_base_;
  dense_out_state_.reserve(n_out);
  for (std::size_t st = 0; st < n_states; ++st) {
    if (has_out[st]) {
      offset[st] = out;
      out += 256;
      dense_out_state_.push_back(static_cast<std::uint32_t>(st));
    }
  }
  const std::uint32_t nc = n_classes_;
  dense_.assign(entries, 0);
  for (std::size_t st = 0; st < n_states; ++st) {
    std::uint32_t* row = dense_.data() + offset[st];
    for (int b = 0; b < 256; ++b) row[b] = offset[next_[st * nc + classes_[b]]];
  }
}

}  // namespace mamori::rules::internal
