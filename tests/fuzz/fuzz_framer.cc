// libFuzzer target: the TCP framer (RFC 6587: octet counting and LF framing, per frame) on an
// arbitrary byte stream. Checks what tcp_framer.h promises:
//   - the same frames whether the stream is fed at once, in chunks of any size, or byte by byte
//     (and the same Finish() result);
//   - no message longer than max_message_bytes; `truncated` exactly when bytes < original_size;
//   - no crash, no sanitizer report.
// Byte 0 picks max_message_bytes (1..256), byte 1 the chunk size (1..256); the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "mamori/collector/tcp_framer.h"

namespace {

using mamori::collector::Frame;
using mamori::collector::TcpFramer;

std::vector<Frame> Run(std::string_view stream, std::size_t max, std::size_t chunk,
                       bool* finished) {
  TcpFramer f(max);
  std::vector<Frame> out;
  for (std::size_t at = 0; at < stream.size(); at += chunk) f.Feed(stream.substr(at, chunk), &out);
  *finished = f.Finish(&out);
  if (f.has_partial()) std::abort();  // Finish() ends any frame in progress
  return out;
}

bool Same(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].bytes != b[i].bytes || a[i].original_size != b[i].original_size ||
        a[i].truncated != b[i].truncated) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max = std::size_t{data[0]} + 1;
  const std::size_t chunk = std::size_t{data[1]} + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool fin_whole = false, fin_chunks = false, fin_bytes = false;
  const std::vector<Frame> whole = Run(stream, max, stream.size() + 1, &fin_whole);
  const std::vector<Frame> chunks = Run(stream, max, chunk, &fin_chunks);
  const std::vector<Frame> bytes = Run(stream, max, 1, &fin_bytes);
  if (!Same(whole, chunks) || !Same(whole, bytes)) std::abort();
  if (fin_whole != fin_chunks || fin_whole != fin_bytes) std::abort();
  std::size_t total = 0;
  for (const Frame& f : whole) {
    if (f.bytes.size() > max) std::abort();
    if (f.truncated != (f.bytes.size() < f.original_size)) std::abort();
    if (f.bytes.size() > f.original_size) std::abort();
    total += f.bytes.size();
  }
  if (total > stream.size()) std::abort();  // framing never invents bytes
  return 0;
}
