#include "mamori/collector/collector.h"

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <unordered_set>

#include "listener.h"
#include "mamori/core/log.h"
#include "tcp_listener.h"
#include "udp_listener.h"

namespace mamori::collector {

class Collector::Impl {
 public:
  Impl(boost::asio::io_context& io, RecordQueue& queue, Processor processor,
       prometheus::Registry& registry, const Clock& clock)
      : io_(io),
        shared_(std::make_shared<SharedState>(queue, std::move(processor), clock, registry)) {}

  Status Start(const std::vector<ListenerConfig>& configs) {
    std::lock_guard lock(mu_);
    if (started_) return Status::Internal("Collector::Start called twice");
    if (Status s = Validate(configs); !s.ok()) return s;
    std::vector<std::shared_ptr<Listener>> listeners;
    for (const ListenerConfig& config : configs) {
      std::shared_ptr<Listener> listener;
      if (config.kind == ListenerConfig::Kind::kSyslogUdp) {
        listener = std::make_shared<UdpListener>(io_, config, shared_);
      } else {
        listener = std::make_shared<TcpListener>(io_, config, shared_);
      }
      if (Status s = listener->Open(); !s.ok()) return s;  // the opened ones close on return
      listeners.push_back(std::move(listener));
    }
    started_ = true;
    listeners_ = std::move(listeners);
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      bound_.emplace_back(configs[i].name, listeners_[i]->bound());
      listeners_[i]->Run();
      log::Info("collector",
                "listening: " + configs[i].name + " " +
                    (configs[i].kind == ListenerConfig::Kind::kSyslogUdp ? "udp " : "tcp ") +
                    listeners_[i]->bound().ToString());
    }
    return Status::Ok();
  }

  std::vector<std::pair<std::string, HostPort>> BoundAddresses() const {
    std::lock_guard lock(mu_);
    return bound_;
  }

  void Stop() {
    std::lock_guard lock(mu_);
    for (auto& listener : listeners_) listener->Stop();
  }

 private:
  static Status Validate(const std::vector<ListenerConfig>& configs) {
    std::unordered_set<std::string> names;
    for (const ListenerConfig& c : configs) {
      if (c.name.empty()) return Status::InvalidArgument("listener with an empty name");
      if (!names.insert(c.name).second) {
        return Status::InvalidArgument("listener '" + c.name + "' is configured twice");
      }
      if (c.max_message_bytes == 0) {
        return Status::InvalidArgument(ListenerContext(c) + "max_message_bytes must be > 0");
      }
    }
    return Status::Ok();
  }

  boost::asio::io_context& io_;
  const std::shared_ptr<SharedState> shared_;
  mutable std::mutex mu_;
  bool started_ = false;                                 // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<Listener>> listeners_;     // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, HostPort>> bound_;  // GUARDED_BY(mu_)
};

Collector::Collector(boost::asio::io_context& io, RecordQueue& queue, Processor processor,
                     prometheus::Registry& registry, const Clock& clock)
    : impl_(std::make_unique<Impl>(io, queue, std::move(processor), registry, clock)) {}

Collector::~Collector() = default;

Status Collector::Start(const std::vector<ListenerConfig>& listeners) {
  return impl_->Start(listeners);
}

std::vector<std::pair<std::string, HostPort>> Collector::BoundAddresses() const {
  return impl_->BoundAddresses();
}

void Collector::Stop() { impl_->Stop(); }

}  // namespace mamori::collector
