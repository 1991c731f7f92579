// SourceTracker: per-source liveness. A source is a known sender configured in `sources:`
// (SourceConfig: a name and either an exact host name or a CIDR network). Every record is matched
// to at most one source and counted, so that a source that goes quiet is visible in Prometheus:
//
//   mamori_source_last_seen_timestamp_seconds{source}  receive time of the newest record from
//                                                       the source (gauge; 0 = not seen since
//                                                       mamori started)
//   mamori_source_events_total{source}                  records matched to the source (counter)
//   mamori_source_unknown_events_total                  records that matched no source (counter)
//
// The `source` label is the configured name, never a value taken from the traffic, so the
// cardinality is bounded by the configuration.
//
// Matching, in this order:
//   1. Event::host equal (byte for byte) to a source's `host`;
//   2. the sender address (RawRecord::peer, "ip:port" or "[v6]:port") inside a source's
//      `network`; the longest prefix wins, then the order of the configuration. IPv4-mapped IPv6
//      peers ("::ffff:10.1.2.3") match IPv4 networks.
//
// Cost: one hash lookup and a scan of the networks sorted by prefix length; no allocation.
//
// Thread-safety: Create() once at startup; Observe() and Match() may then be called from any
// number of threads at once (the collector's I/O threads call Observe() for every record).
//
// Ownership: the tracker keeps references to metric children in `registry`, which must outlive
// it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/core/status.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace mamori::collector {

// An IPv4 or IPv6 address as 16 bytes: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
};

// Parses "10.1.2.3", "2001:db8::1". False when it is not a literal address.
bool ParseIpAddress(std::string_view text, IpAddress* out);
// Parses the address part of a RawRecord::peer: "10.1.2.3:514", "[2001:db8::1]:514".
bool ParsePeerAddress(std::string_view peer, IpAddress* out);

// A CIDR network. For IPv4, prefix_len counts from the start of the IPv4 address (0..32).
struct IpNetwork {
  IpAddress base;  // masked to the prefix
  int prefix_len = 0;
  bool Contains(const IpAddress& a) const;
};
// Parses "10.0.0.0/8", "2001:db8::/32". Host bits must be zero.
Result<IpNetwork> ParseIpNetwork(std::string_view cidr);

class SourceTracker {
 public:
  // Validates every source (a bad CIDR is an error naming the source) and registers the metric
  // families and one child per source in `registry`.
  static Result<std::unique_ptr<SourceTracker>> Create(const std::vector<SourceConfig>& sources,
                                                       prometheus::Registry& registry);
  ~SourceTracker();
  SourceTracker(const SourceTracker&) = delete;
  SourceTracker& operator=(const SourceTracker&) = delete;

  // Matches the record and updates the metrics. Safe from any thread.
  void Observe(const Record& record);

  // The metric updates of several records, published at once: the collector's I/O threads
  // observe a whole read and touch each shared counter once per read, not per record. A Tally
  // belongs to one thread at a time.
  struct Tally {
    std::uint64_t unknown = 0;
    std::vector<std::uint64_t> events;    // per source (configuration order); sized on first use
    std::vector<std::int64_t> newest_ns;  // per source: newest receive time among them
  };
  // Observe, into *tally instead of the metrics. Safe from any thread.
  void Observe(const Record& record, Tally* tally) const;
  // Adds *tally to the metrics and empties it. Safe from any thread.
  void Publish(Tally* tally);

  // The name of the source the record matches, or nullptr. Safe from any thread.
  const std::string* Match(const Record& record) const;

  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    prometheus::Gauge* last_seen = nullptr;
    prometheus::Counter* events = nullptr;
    std::atomic<std::int64_t> last_seen_ns{0};
    std::size_t index = 0;  // in entries_
  };
  struct Net {
    IpNetwork network;
    Entry* entry;
  };

  SourceTracker() = default;
  Entry* Find(const Record& record) const;
  // Raises the source's last-seen time to ns (when newer).
  static void Seen(Entry* e, std::int64_t ns);

  std::vector<std::unique_ptr<Entry>> entries_;      // configuration order
  std::unordered_map<std::string, Entry*> by_host_;  // exact Event::host
  std::vector<Net> networks_;                        // longest prefix first
  prometheus::Counter* unknown_ = nullptr;
};

}  // namespace mamori::collector
