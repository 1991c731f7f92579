#include "mamori/notify/notifier.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "mamori/core/log.h"

namespace mamori::notify {

Notifier::Notifier(const NotificationsConfig& config, const Clock& clock)
    : config_(config),
      clock_(clock),
      throttle_(config.throttle_ms * 1'000'000),
      rng_(std::random_device{}()) {}

Notifier::~Notifier() { Stop(); }

Result<std::unique_ptr<Notifier>> Notifier::Create(const NotificationsConfig& config,
                                                   const NotifierOptions& options,
                                                   const Clock& clock,
                                                   prometheus::Registry& registry) {
  std::unique_ptr<Notifier> n(new Notifier(config, clock));
  auto& sent = prometheus::BuildCounter()
                   .Name("mamori_notifications_sent_total")
                   .Help("Notifications delivered (the receiver acknowledged them), by channel")
                   .Register(registry);
  auto& failures = prometheus::BuildCounter()
                       .Name("mamori_notifications_failures_total")
                       .Help("Notification delivery attempts that failed (each is retried)")
                       .Register(registry);
  auto& expired = prometheus::BuildCounter()
                      .Name("mamori_notifications_expired_total")
                      .Help("Notifications given up: not delivered within notifications.max_age")
                      .Register(registry);
  auto& depth = prometheus::BuildGauge()
                    .Name("mamori_notifications_outbox_depth")
                    .Help("Notifications waiting in the durable outbox, by channel")
                    .Register(registry);
  n->throttled_ = &prometheus::BuildCounter()
                       .Name("mamori_notifications_throttled_total")
                       .Help("Incident updates and reopens not notified (throttle window)")
                       .Register(registry)
                       .Add({});
  for (const auto& c : config.channels) {
    auto ch = std::make_unique<Channel>();
    ch->config = c;
    ch->sender = MakeSender(c, &n->stop_);
    ch->sent = &sent.Add({{"channel", c.name}});
    ch->failures = &failures.Add({{"channel", c.name}});
    ch->expired = &expired.Add({{"channel", c.name}});
    ch->depth = &depth.Add({{"channel", c.name}});
    n->channels_.push_back(std::move(ch));
  }
  if (config.channels.empty()) return n;  // notifications off: no outbox database

  OutboxOptions oo;
  oo.dir = options.dir;
  oo.sync = options.sync;
  auto box = Outbox::Open(oo);
  if (!box.ok()) return box.status();
  n->outbox_ = std::move(box).value();
  std::size_t loaded = 0;
  std::map<std::string, std::size_t> orphans;
  Status st = n->outbox_->ForEach(false, [&](const Entry& e) {
    Channel* ch = n->Find(e.channel);
    if (ch == nullptr) {
      ++orphans[e.channel];
      return;
    }
    ch->due.emplace(std::make_pair(e.next_attempt_ns, e.id), e);
    ++loaded;
  });
  if (!st.ok()) return st;
  for (auto& ch : n->channels_) ch->depth->Set(static_cast<double>(ch->due.size()));
  for (const auto& [name, count] : orphans) {
    log::Warn("notify", std::to_string(count) + " pending notifications for channel '" + name +
                            "', which is no longer configured: kept in the outbox, not sent");
  }
  log::Info("notify", "outbox " + oo.dir + ": " + std::to_string(loaded) +
                          " pending notifications resumed, " + std::to_string(n->channels_.size()) +
                          " channels");
  return n;
}

Notifier::Channel* Notifier::Find(const std::string& name) const {
  for (const auto& ch : channels_) {
    if (ch->config.name == name) return ch.get();
  }
  return nullptr;
}

Status Notifier::OnIncident(const incidents::Incident& incident, Kind kind) {
  if (channels_.empty()) return Status::Ok();
  std::vector<Channel*> routed;
  for (const auto& ch : channels_) {
    if (Routes(ch->config, incident.severity, incident.tags)) routed.push_back(ch.get());
  }
  if (routed.empty()) return Status::Ok();
  const std::int64_t now = clock_.NowNs();
  std::lock_guard<std::mutex> lock(mu_);
  if (!throttle_.Allow(incident.rule_id, incident.group_key, kind, now)) {
    throttled_->Increment();
    return Status::Ok();
  }
  const std::uint64_t id = outbox_->next_id();
  const std::string payload = NotificationJson(outbox_->instance() + "-" + std::to_string(id), kind,
                                               now, incident, config_.base_url)
                                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<Entry> entries;
  for (Channel* ch : routed) {
    Entry e;
    e.id = id;
    e.channel = ch->config.name;
    e.incident_id = incident.id;
    e.payload = payload;
    e.created_ns = now;
    e.next_attempt_ns = now;
    entries.push_back(std::move(e));
  }
  if (Status st = outbox_->Add(entries, id + 1); !st.ok()) return st;
  for (std::size_t i = 0; i < routed.size(); ++i) {
    routed[i]->due.emplace(std::make_pair(now, id), std::move(entries[i]));
    routed[i]->depth->Increment();
  }
  cv_.notify_all();
  return Status::Ok();
}

void Notifier::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& ch : channels_) {
    Channel* c = ch.get();
    c->thread = std::thread([this, c] { Run(c); });
  }
}

void Notifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  for (auto& ch : channels_) {
    if (ch->thread.joinable()) ch->thread.join();
  }
}

std::size_t Notifier::pending(const std::string& channel) const {
  std::lock_guard<std::mutex> lock(mu_);
  Channel* ch = Find(channel);
  return ch == nullptr ? 0 : ch->due.size();
}

void Notifier::SetSenderForTest(const std::string& channel, std::unique_ptr<Sender> sender) {
  Channel* ch = Find(channel);
  if (ch != nullptr) ch->sender = std::move(sender);
}

void Notifier::Run(Channel* ch) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_.load()) {
    if (ch->due.empty()) {
      cv_.wait(lock);
      continue;
    }
    const std::int64_t now = clock_.NowNs();
    auto first = ch->due.begin();
    const std::int64_t due = std::max(first->first.first, ch->paused_until_ns);
    if (due > now) {
      // Wake at the due time, or within a second (a clock that jumps, a fake clock in tests).
      auto wait = std::chrono::nanoseconds(std::min<std::int64_t>(due - now, 1'000'000'000));
      cv_.wait_for(lock, wait);
      continue;
    }
    Entry e = std::move(first->second);
    ch->due.erase(first);
    lock.unlock();
    Attempt(ch, std::move(e));
    lock.lock();
  }
}

// Called without mu_; puts the entry back into the schedule unless it is done.
void Notifier::Attempt(Channel* ch, Entry e) {
  const std::string what = "notification " + std::to_string(e.id) + " (incident " +
                           std::to_string(e.incident_id) + ") to channel " + ch->config.name;
  std::int64_t now = clock_.NowNs();
  if (now - e.created_ns > config_.max_age_ms * 1'000'000) {
    e.failed_ns = now;
    Status st = outbox_->GiveUp(e);
    log::Error("notify", "gave up " + what + " after " + std::to_string(e.attempts) +
                             " failed attempts over notifications.max_age; last error: " +
                             e.last_error + (st.ok() ? "" : " (outbox: " + st.ToString() + ")"));
    ch->expired->Increment();
    ch->depth->Decrement();
    return;
  }
  Status sent = ch->sender->Send(e);
  if (sent.ok()) {
    Status st = outbox_->Remove(e);
    if (!st.ok()) {
      log::Error("notify", "delivered " + what +
                               " but could not remove it from the outbox (it "
                               "may be sent again after a restart): " +
                               st.ToString());
    }
    ch->sent->Increment();
    ch->depth->Decrement();
    if (ch->failing) {
      log::Info("notify", "channel " + ch->config.name + " delivers again");
      ch->failing = false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ch->failures_in_row = 0;
      ch->paused_until_ns = 0;
    }
    log::Debug("notify", "delivered " + what);
    return;
  }
  if (stop_.load()) {  // abandoned by Stop: stays pending as it was
    std::lock_guard<std::mutex> lock(mu_);
    ch->due.emplace(std::make_pair(e.next_attempt_ns, e.id), std::move(e));
    return;
  }
  ch->failures->Increment();
  ++e.attempts;
  e.last_error = sent.message();
  double r, r2;
  std::uint32_t in_row;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    r2 = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    in_row = ++ch->failures_in_row;
  }
  const std::int64_t delay_ms = RetryDelayMs(config_, e.attempts, r);
  now = clock_.NowNs();
  e.next_attempt_ns = now + delay_ms * 1'000'000;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ch->paused_until_ns = now + RetryDelayMs(config_, in_row, r2) * 1'000'000;
  }
  std::string msg = what + " failed (attempt " + std::to_string(e.attempts) + "): " + e.last_error +
                    "; next attempt in " + std::to_string(delay_ms) + " ms";
  if (!ch->failing) {
    log::Warn("notify", msg);
    ch->failing = true;
  } else {
    log::Debug("notify", msg);
  }
  if (Status st = outbox_->Update(e); !st.ok()) {
    log::Error("notify", "outbox update for " + what + " failed: " + st.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  ch->due.emplace(std::make_pair(e.next_attempt_ns, e.id), std::move(e));
}

}  // namespace mamori::notify
