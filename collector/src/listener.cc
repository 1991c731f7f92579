#include "listener.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <utility>

namespace mamori::collector {

std::string FormatPeer(const boost::asio::ip::address& address, std::uint16_t port) {
  std::string s;
  if (address.is_v6()) {
    s = "[" + address.to_string() + "]";
  } else {
    s = address.to_string();
  }
  s += ':';
  s += std::to_string(port);
  return s;
}

Result<boost::asio::ip::address> ResolveHost(const std::string& host) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (!ec) return address;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(host, "", ec);
  if (ec) return Status::InvalidArgument("cannot resolve '" + host + "': " + ec.message());
  if (results.empty()) return Status::InvalidArgument("'" + host + "' has no address");
  return results.begin()->endpoint().address();
}

std::string ListenerContext(const ListenerConfig& config) {
  return "listener '" + config.name + "' (" + config.address.ToString() + "): ";
}

void StampRecord(const ListenerConfig& config, Transport transport, const std::string& peer,
                 std::int64_t now_ns, std::string bytes, std::uint64_t original_size,
                 bool truncated, Record* record) {
  RawRecord& raw = record->raw;
  raw.bytes = std::move(bytes);
  raw.received_ns = now_ns;
  raw.listener = config.name;
  raw.transport = transport;
  raw.peer = peer;
  raw.original_size = original_size;
  if (truncated) raw.flags |= kRawTruncated;
}

}  // namespace mamori::collector
