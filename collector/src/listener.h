// Internal: what every listener of a Collector shares, and the interface the Collector drives.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mamori/collector/collector.h"
#include "mamori/core/config.h"
#include "mamori/core/record.h"
#include "mamori/core/status.h"
#include "metrics.h"

namespace mamori::collector {

// Owned by the Collector's Impl and by every listener (shared_ptr), so that handlers still
// pending on the io_context never see it destroyed.
struct SharedState {
  SharedState(RecordQueue& q, Processor p, const Clock& c, prometheus::Registry& r)
      : queue(q), processor(std::move(p)), clock(c), families(r) {}
  RecordQueue& queue;
  const Processor processor;
  const Clock& clock;
  CollectorFamilies families;
};

class Listener {
 public:
  virtual ~Listener() = default;
  // Opens and binds the socket. Nothing runs on the io_context yet.
  virtual Status Open() = 0;
  // Starts the asynchronous receive/accept loop. REQUIRES: Open() succeeded.
  virtual void Run() = 0;
  // Thread-safe, idempotent; see Collector::Stop().
  virtual void Stop() = 0;
  virtual HostPort bound() const = 0;
};

// "1.2.3.4:514", "[::1]:514".
std::string FormatPeer(const boost::asio::ip::address& address, std::uint16_t port);

// A literal address, or a name resolved (synchronously) to its first address.
Result<boost::asio::ip::address> ResolveHost(const std::string& host);

// "listener 'syslog-tcp' (127.0.0.1:5514): " — the prefix of every error about a listener.
std::string ListenerContext(const ListenerConfig& config);

// Fills the raw-record fields of a fresh record.
void StampRecord(const ListenerConfig& config, Transport transport, const std::string& peer,
                 std::int64_t now_ns, std::string bytes, std::uint64_t original_size,
                 bool truncated, Record* record);

}  // namespace mamori::collector
