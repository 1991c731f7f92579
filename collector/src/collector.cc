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
    std::vector<std::shared_ptr<TcpListener>> tls;
    for (std::size_t i = 0; i < configs.size(); ++i) {
      const ListenerConfig& config = configs[i];
      std::shared_ptr<Listener> listener;
      if (config.kind == ListenerConfig::Kind::kSyslogUdp) {
        listener = std::make_shared<UdpListener>(io_, config, shared_);
      } else {
        auto tcp = std::make_shared<TcpListener>(io_, config, shared_,
                                                 "listeners[" + std::to_string(i) + "]");
        if (tcp->tls()) tls.push_back(tcp);
        listener = std::move(tcp);
      }
      if (Status s = listener->Open(); !s.ok()) return s;  // the opened ones close on return
      listeners.push_back(std::move(listener));
    }
    started_ = true;
    listeners_ = std::move(listeners);
    tls_listeners_ = std::move(tls);
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      bound_.emplace_back(configs[i].name, listeners_[i]->bound());
      listeners_[i]->Run();
      const char* transport = configs[i].kind == ListenerConfig::Kind::kSyslogUdp   ? "udp "
                              : configs[i].kind == ListenerConfig::Kind::kSyslogTls ? "tls "
                                                                                    : "tcp ";
      log::Info("collector", "listening: " + configs[i].name + " " + transport +
                                 listeners_[i]->bound().ToString());
    }
    for (const auto& l : tls_listeners_) {
      log::Info("collector",
                "tls: " + l->config().name + " certificate " + l->DescribeTls() +
                    (l->config().tls.verify_client ? "; client certificates required" : ""));
    }
    return Status::Ok();
  }

  std::vector<std::pair<std::string, Status>> ReloadTls() {
    std::vector<std::shared_ptr<TcpListener>> tls;
    {
      std::lock_guard lock(mu_);
      tls = tls_listeners_;
    }
    std::vector<std::pair<std::string, Status>> out;
    for (const auto& l : tls) {
      Status st = l->ReloadTls();
      if (st.ok()) {
        log::Info("collector",
                  "tls: " + l->config().name + " reloaded certificate " + l->DescribeTls());
      }
      out.emplace_back(l->config().name, std::move(st));
    }
    return out;
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
  bool started_ = false;                                     // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<Listener>> listeners_;         // GUARDED_BY(mu_)
  std::vector<std::shared_ptr<TcpListener>> tls_listeners_;  // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, HostPort>> bound_;      // GUARDED_BY(mu_)
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

std::vector<std::pair<std::string, Status>> Collector::ReloadTls() { return impl_->ReloadTls(); }

}  // namespace mamori::collector
