#include "mamori/collector/tcp_framer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace mamori::collector {
namespace {

constexpr std::size_t kMaxCountDigits = 10;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

TcpFramer::TcpFramer(std::size_t max_message_bytes)
    : max_(max_message_bytes == 0 ? 1 : max_message_bytes) {}

void TcpFramer::Feed(std::string_view data, std::vector<Frame>* out) {
  while (!data.empty()) {
    std::size_t used = 0;
    switch (state_) {
      case State::kFrameStart:
        state_ = IsDigit(data.front()) ? State::kOctetCount : State::kLfBody;
        continue;
      case State::kOctetCount:
        used = FeedOctetCount(data);
        break;
      case State::kOctetBody:
        used = FeedOctetBody(data, out);
        break;
      case State::kLfBody:
        used = FeedLfBody(data, out);
        break;
    }
    data.remove_prefix(used);
  }
}

std::size_t TcpFramer::FeedOctetCount(std::string_view data) {
  std::size_t i = 0;
  for (; i < data.size(); ++i) {
    const char c = data[i];
    if (IsDigit(c)) {
      if (count_digits_.size() == kMaxCountDigits) return i + FallBackToLf();
      count_digits_.push_back(c);
      continue;
    }
    if (c != ' ') return i + FallBackToLf();
    std::uint64_t n = 0;
    for (char d : count_digits_) n = n * 10 + static_cast<std::uint64_t>(d - '0');
    if (n == 0) return i + FallBackToLf();
    count_digits_.clear();
    octet_length_ = n;
    octets_remaining_ = n;
    state_ = State::kOctetBody;
    return i + 1;
  }
  return i;
}

std::size_t TcpFramer::FeedOctetBody(std::string_view data, std::vector<Frame>* out) {
  const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(octets_remaining_, data.size()));
  Append(data.substr(0, take));
  octets_remaining_ -= take;
  if (octets_remaining_ == 0) Emit(out);
  return take;
}

std::size_t TcpFramer::FeedLfBody(std::string_view data, std::vector<Frame>* out) {
  const void* lf = std::memchr(data.data(), '\n', data.size());
  if (lf == nullptr) {
    Append(data);
    return data.size();
  }
  const std::size_t len = static_cast<const char*>(lf) - data.data();
  if (current_size_ == 0 && len > 0 && len <= max_) {
    // The whole line is in this read (the common case): copied once, straight into its frame.
    Frame& f = out->emplace_back();
    f.bytes.assign(data.data(), len);
    f.original_size = len;
    f.truncated = false;
    state_ = State::kFrameStart;
    return len + 1;
  }
  Append(data.substr(0, len));
  if (current_size_ == 0) {
    state_ = State::kFrameStart;  // an empty line is no message
  } else {
    Emit(out);
  }
  return len + 1;
}

void TcpFramer::Append(std::string_view data) {
  current_size_ += data.size();
  if (current_.size() < max_) {
    current_.append(data.data(), std::min(data.size(), max_ - current_.size()));
  }
}

void TcpFramer::Emit(std::vector<Frame>* out) {
  Frame& f = out->emplace_back();
  f.original_size = current_size_;
  f.truncated = current_size_ > current_.size();
  f.bytes = std::move(current_);
  current_.clear();
  current_size_ = 0;
  state_ = State::kFrameStart;
}

std::size_t TcpFramer::FallBackToLf() {
  ++lf_fallbacks_;
  Append(count_digits_);  // the digits are the start of the message
  count_digits_.clear();
  state_ = State::kLfBody;
  return 0;  // the byte that ended the count is part of the LF-delimited frame
}

bool TcpFramer::Finish(std::vector<Frame>* out) {
  switch (state_) {
    case State::kFrameStart:
      return false;
    case State::kOctetCount:
      Append(count_digits_);
      count_digits_.clear();
      Emit(out);
      return true;
    case State::kOctetBody: {
      Frame& f = out->emplace_back();
      f.bytes = std::move(current_);
      f.original_size = octet_length_;
      f.truncated = true;
      current_.clear();
      current_size_ = 0;
      octets_remaining_ = 0;
      state_ = State::kFrameStart;
      return true;
    }
    case State::kLfBody:
      if (current_size_ == 0) {
        state_ = State::kFrameStart;
        return false;
      }
      Emit(out);
      return true;
  }
  return false;
}

}  // namespace mamori::collector
