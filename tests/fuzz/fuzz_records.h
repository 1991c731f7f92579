// A sample record shared by the fuzz targets that need a realistic one (an sshd failure).
#pragma once

#include "mamori/core/record.h"

namespace mamori::fuzz {

inline Record SshdFailureRecord() {
  Record r;
  r.seq = 1;
  r.raw.bytes = "<38>Nov 27 06:50:24 web1 sshd[812]: Failed password for root from 10.0.0.5";
  r.raw.received_ns = 1'700'000'000'000'000'000;
  r.raw.listener = "syslog-tcp";
  r.raw.peer = "127.0.0.1:40000";
  r.event.format = "sshd";
  r.event.host = "web1";
  r.event.app = "sshd";
  r.event.procid = "812";
  r.event.event_time_ns = r.raw.received_ns;
  r.event.message = "Failed password for root from 10.0.0.5";
  r.event.fields = {{"user.name", "root"}, {"source.ip", "10.0.0.5"}, {"event.outcome", "failure"}};
  return r;
}

}  // namespace mamori::fuzz
