#include "mamori/collector/sources.h"

#include <arpa/inet.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace mamori::collector {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Copies `text` into a NUL-terminated stack buffer for inet_pton. False when it does not fit.
template <std::size_t N>
bool CopyZ(std::string_view text, char (&buf)[N]) {
  if (text.size() >= N) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return true;
}

}  // namespace

bool ParseIpAddress(std::string_view text, IpAddress* out) {
  // A scoped IPv6 address ("fe80::1%eth0") matches without its zone.
  if (auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  char buf[64];
  if (!CopyZ(text, buf)) return false;
  IpAddress a;
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.bytes.begin());
    std::copy(v4, v4 + 4, a.bytes.begin() + 12);
    a.v4 = true;
  } else if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.v4 = std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.bytes.begin());
  } else {
    return false;
  }
  *out = a;
  return true;
}

bool ParsePeerAddress(std::string_view peer, IpAddress* out) {
  if (!peer.empty() && peer.front() == '[') {
    auto close = peer.find(']');
    if (close == std::string_view::npos) return false;
    return ParseIpAddress(peer.substr(1, close - 1), out);
  }
  auto colon = peer.rfind(':');
  // "ip:port" for IPv4; a bare address (no port) is accepted too.
  if (colon != std::string_view::npos && peer.find(':') == colon) peer = peer.substr(0, colon);
  return ParseIpAddress(peer, out);
}

bool IpNetwork::Contains(const IpAddress& a) const {
  if (a.v4 != base.v4) return false;
  int bits = prefix_len + (base.v4 ? 96 : 0);
  int full = bits / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), full) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == base.bytes[full];
}

Result<IpNetwork> ParseIpNetwork(std::string_view cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("expected CIDR like 10.0.0.0/8, got '" + std::string(cidr) +
                                   "'");
  }
  IpNetwork n;
  if (!ParseIpAddress(cidr.substr(0, slash), &n.base)) {
    return Status::InvalidArgument("'" + std::string(cidr.substr(0, slash)) +
                                   "' is not an IP address");
  }
  auto len = cidr.substr(slash + 1);
  int max = n.base.v4 ? 32 : 128;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), n.prefix_len);
  if (len.empty() || ec != std::errc() || p != len.data() + len.size() || n.prefix_len < 0 ||
      n.prefix_len > max) {
    return Status::InvalidArgument("prefix length '" + std::string(len) + "' is not 0.." +
                                   std::to_string(max));
  }
  // Host bits must be zero: "10.1.2.3/16" is more likely a typo than a network.
  int bits = n.prefix_len + (n.base.v4 ? 96 : 0);
  for (int i = bits; i < 128; ++i) {
    if (n.base.bytes[i / 8] & (0x80 >> (i % 8))) {
      return Status::InvalidArgument("'" + std::string(cidr) + "' has host bits set");
    }
  }
  return n;
}

Result<std::unique_ptr<SourceTracker>> SourceTracker::Create(
    const std::vector<SourceConfig>& sources, prometheus::Registry& registry) {
  auto& last_seen = prometheus::BuildGauge()
                        .Name("mamori_source_last_seen_timestamp_seconds")
                        .Help(
                            "Receive time of the newest record from a configured source "
                            "(0 = not seen since mamori started)")
                        .Register(registry);
  auto& events = prometheus::BuildCounter()
                     .Name("mamori_source_events_total")
                     .Help("Records matched to a configured source")
                     .Register(registry);
  auto& unknown = prometheus::BuildCounter()
                      .Name("mamori_source_unknown_events_total")
                      .Help("Records that matched no configured source")
                      .Register(registry);
  std::unique_ptr<SourceTracker> t(new SourceTracker());
  t->unknown_ = &unknown.Add({});
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const SourceConfig& sc = sources[i];
    auto e = std::make_unique<Entry>();
    e->name = sc.name;
    e->index = i;
    if (!sc.network.empty()) {
      auto n = ParseIpNetwork(sc.network);
      if (!n.ok()) {
        return Status::InvalidArgument("sources[" + std::to_string(i) +
                                       "].network: " + n.status().message());
      }
      t->networks_.push_back({*n, e.get()});
    } else if (!t->by_host_.emplace(sc.host, e.get()).second) {
      return Status::InvalidArgument("sources[" + std::to_string(i) + "].host: '" + sc.host +
                                     "' is already the host of another source");
    }
    e->last_seen = &last_seen.Add({{"source", sc.name}});
    e->events = &events.Add({{"source", sc.name}});
    t->entries_.push_back(std::move(e));
  }
  std::stable_sort(t->networks_.begin(), t->networks_.end(), [](const Net& a, const Net& b) {
    return a.network.prefix_len + (a.network.base.v4 ? 96 : 0) >
           b.network.prefix_len + (b.network.base.v4 ? 96 : 0);
  });
  return t;
}

SourceTracker::~SourceTracker() = default;

SourceTracker::Entry* SourceTracker::Find(const Record& record) const {
  if (!by_host_.empty() && !record.event.host.empty()) {
    if (auto it = by_host_.find(record.event.host); it != by_host_.end()) return it->second;
  }
  if (networks_.empty()) return nullptr;
  IpAddress peer;
  if (!ParsePeerAddress(record.raw.peer, &peer)) return nullptr;
  for (const Net& n : networks_) {
    if (n.network.Contains(peer)) return n.entry;
  }
  return nullptr;
}

const std::string* SourceTracker::Match(const Record& record) const {
  Entry* e = Find(record);
  return e ? &e->name : nullptr;
}

void SourceTracker::Observe(const Record& record) {
  Entry* e = Find(record);
  if (e == nullptr) {
    unknown_->Increment();
    return;
  }
  e->events->Increment();
  Seen(e, record.raw.received_ns);
}

void SourceTracker::Observe(const Record& record, Tally* tally) const {
  Entry* e = Find(record);
  if (e == nullptr) {
    ++tally->unknown;
    return;
  }
  if (tally->events.size() != entries_.size()) {
    tally->events.assign(entries_.size(), 0);
    tally->newest_ns.assign(entries_.size(), 0);
  }
  ++tally->events[e->index];
  tally->newest_ns[e->index] = std::max(tally->newest_ns[e->index], record.raw.received_ns);
}

void SourceTracker::Publish(Tally* tally) {
  if (tally->unknown > 0) unknown_->Increment(static_cast<double>(tally->unknown));
  tally->unknown = 0;
  for (std::size_t i = 0; i < tally->events.size() && i < entries_.size(); ++i) {
    if (tally->events[i] == 0) continue;
    entries_[i]->events->Increment(static_cast<double>(tally->events[i]));
    Seen(entries_[i].get(), tally->newest_ns[i]);
    tally->events[i] = 0;
    tally->newest_ns[i] = 0;
  }
}

void SourceTracker::Seen(Entry* e, std::int64_t ns) {
  // Keep the newest receive time when I/O threads race. After publishing, re-read: if another
  // thread raised the maximum meanwhile, publish again, so that once the racing calls have
  // returned the gauge holds the maximum.
  std::int64_t prev = e->last_seen_ns.load();
  while (ns > prev && !e->last_seen_ns.compare_exchange_weak(prev, ns)) {
  }
  if (ns <= prev) return;
  for (;;) {
    e->last_seen->Set(static_cast<double>(ns) / 1e9);
    std::int64_t now = e->last_seen_ns.load();
    if (now == ns) break;
    ns = now;
  }
}

}  // namespace mamori::collector
