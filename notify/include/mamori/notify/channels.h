// Channels: deliver one outbox entry to one receiver, synchronously, within the channel's
// timeout. A Sender returns OK only when the receiver acknowledged the message:
//   webhook  an HTTP 2xx answer to the POST (http:// or https:// with certificate and host name
//            verification); headers X-Mamori-Notification-Id, X-Mamori-Event (the kind) and,
//            with a secret, X-Mamori-Signature: sha256=<HMAC-SHA256 of the body, hex>.
//   syslog   the RFC 5424 line written to the TCP socket (octet-counted, RFC 6587), or sent as
//            one UDP datagram (UDP has no acknowledgement: sent is delivered).
//   smtp     "250" after the end of DATA (EHLO, optional STARTTLS and AUTH PLAIN, MAIL FROM,
//            RCPT TO for every recipient, DATA).
//
// Thread-safety: a Sender is used by one thread at a time (its channel's delivery thread). Send
// gives up early (Unavailable) when *stop becomes true.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "mamori/core/config.h"
#include "mamori/core/status.h"
#include "mamori/notify/outbox.h"

namespace mamori::notify {

class Sender {
 public:
  virtual ~Sender() = default;
  virtual Status Send(const Entry& entry) = 0;
};

// A sender for the channel's type. `stop` must outlive the sender; the caller owns the result.
std::unique_ptr<Sender> MakeSender(const NotificationChannelConfig& channel,
                                   const std::atomic<bool>* stop);

}  // namespace mamori::notify
