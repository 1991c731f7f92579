// mamori-loadgen: replays real log lines (loghub corpus) at a syslog or HTTP receiver.
//
// Modes:
//   tcp   N connections, one thread each, LF or RFC 6587 octet-counted framing, as fast as the
//         receiver takes them (back-pressure is felt as blocking writes).
//   udp   one datagram per message, paced at --rate msg/s with sendmmsg batches (0 = unpaced).
//   http  POST of newline-delimited JSON (application/x-ndjson) to --path, N keep-alive
//         connections, --batch lines per request.
//
// Every message carries a unique token `seq=N` (N in [--seq-start, --seq-start + --count)) at
// the end of its text, so a receiver can count and identify losses. At the end a one-line JSON
// summary is printed on stdout.
//
// Plain POSIX sockets, no project dependencies: the generator must cost as little CPU as
// possible, since on a small machine it competes with the daemon under test.

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr const char* kUsage = R"(usage: mamori-loadgen [options]

  --mode tcp|udp|http      transport (default tcp)
  --host HOST              receiver address (default 127.0.0.1)
  --port PORT              receiver port (required)
  --connections N          TCP/HTTP connections, one thread each (default 1)
  --count N                total messages (default 100000)
  --rate N                 UDP: messages per second offered; 0 = as fast as possible (default 0)
  --framing lf|octet       TCP framing: LF-terminated or RFC 6587 octet counting (default lf)
  --octet-count            same as --framing octet
  --format 3164|5424|raw   syslog header put before each corpus line (default 3164)
  --corpus DIR             loghub directory, reads DIR/*/*.log (default ../shared/corpora/loghub)
  --seq-start N            first sequence number (default 0)
  --duration S             stop sending after S seconds even if --count is not reached (the
                           summary says how many were sent); 0 = no limit (default)
  --path PATH              HTTP: request path (default /api/v1/ingest)
  --batch N                HTTP: lines per request (default 1000); UDP: max datagrams per
                           sendmmsg (default 64)
  --quiet                  no progress on stderr

Prints one JSON line: mode, messages, bytes, seconds, msg_per_sec, start_unix, end_unix, errors.
)";

struct Options {
  std::string mode = "tcp";
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 1;
  uint64_t count = 100000;
  uint64_t rate = 0;
  bool octet = false;
  std::string format = "3164";
  std::string corpus = "../shared/corpora/loghub";
  uint64_t seq_start = 0;
  double duration = 0;  // seconds; 0 = until --count is sent
  std::string path = "/api/v1/ingest";
  int batch = 0;
  bool quiet = false;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "mamori-loadgen: %s\n", msg.c_str());
  std::exit(2);
}

uint64_t ParseU64(const std::string& flag, const std::string& v) {
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) Die(flag + ": not a number: '" + v + "'");
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--quiet") {
      o.quiet = true;
      continue;
    }
    if (a == "--octet-count") {
      o.octet = true;
      continue;
    }
    std::string v;
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else {
      if (i + 1 >= argc) Die(a + " needs a value");
      v = argv[++i];
    }
    if (a == "--mode") {
      o.mode = v;
    } else if (a == "--host") {
      o.host = v;
    } else if (a == "--port") {
      o.port = static_cast<int>(ParseU64(a, v));
    } else if (a == "--connections") {
      o.connections = static_cast<int>(ParseU64(a, v));
    } else if (a == "--count") {
      o.count = ParseU64(a, v);
    } else if (a == "--rate") {
      o.rate = ParseU64(a, v);
    } else if (a == "--framing") {
      if (v != "lf" && v != "octet") Die("--framing: lf or octet");
      o.octet = v == "octet";
    } else if (a == "--format") {
      if (v != "3164" && v != "5424" && v != "raw") Die("--format: 3164, 5424 or raw");
      o.format = v;
    } else if (a == "--corpus") {
      o.corpus = v;
    } else if (a == "--duration") {
      o.duration = ParseU64(a, v);
    } else if (a == "--seq-start") {
      o.seq_start = ParseU64(a, v);
    } else if (a == "--path") {
      o.path = v;
    } else if (a == "--batch") {
      o.batch = static_cast<int>(ParseU64(a, v));
    } else {
      Die("unknown option " + a + "\n\n" + kUsage);
    }
  }
  if (o.mode != "tcp" && o.mode != "udp" && o.mode != "http") Die("--mode: tcp, udp or http");
  if (o.port <= 0 || o.port > 65535) Die("--port is required (1..65535)");
  if (o.connections < 1 || o.connections > 1024) Die("--connections: 1..1024");
  if (o.batch == 0) o.batch = o.mode == "udp" ? 64 : 1000;
  if (o.mode == "udp" && o.batch > 1024) Die("--batch: at most 1024 for udp");
  return o;
}

double NowMono() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Monotonic time after which senders stop (0 = never); checked between writes.
double g_deadline = 0;
std::atomic<bool> g_stopped_early{false};

bool PastDeadline() {
  if (g_deadline == 0 || NowMono() < g_deadline) return false;
  g_stopped_early = true;
  return true;
}

double NowUnix() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// ---------------------------------------------------------------------------------------------
// Corpus: every non-empty line of DIR/*/*.log; each line remembers the data set it came from,
// which becomes the app name (and part of the host name) of the syslog header.

struct Line {
  std::string text;
  uint32_t source;  // index into Corpus::sources
};

struct Corpus {
  std::vector<std::string> sources;  // data set names, e.g. "HDFS"
  std::vector<Line> lines;
};

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Corpus LoadCorpus(const std::string& dir) {
  Corpus c;
  for (const std::string& sub : ListDir(dir)) {
    std::string subdir = dir + "/" + sub;
    if (!IsDir(subdir)) continue;
    for (const std::string& f : ListDir(subdir)) {
      if (f.size() < 4 || f.compare(f.size() - 4, 4, ".log") != 0) continue;
      std::ifstream in(subdir + "/" + f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string all = ss.str();
      uint32_t src = static_cast<uint32_t>(c.sources.size());
      size_t before = c.lines.size();
      size_t pos = 0;
      while (pos < all.size()) {  // the last line has no trailing newline
        size_t nl = all.find('\n', pos);
        if (nl == std::string::npos) nl = all.size();
        std::string_view l(all.data() + pos, nl - pos);
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
        if (!l.empty()) c.lines.push_back({std::string(l), src});
        pos = nl + 1;
      }
      if (c.lines.size() > before) c.sources.push_back(sub);
    }
  }
  if (c.lines.empty()) Die("no lines found in " + dir + "/*/*.log");
  // Interleave the data sets so that every window of the stream has a realistic mix.
  std::vector<Line> mixed;
  mixed.reserve(c.lines.size());
  std::vector<std::vector<Line>> per(c.sources.size());
  for (auto& l : c.lines) per[l.source].push_back(std::move(l));
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (auto& v : per) {
      if (i < v.size()) {
        mixed.push_back(std::move(v[i]));
        any = true;
      }
    }
    if (!any) break;
  }
  c.lines = std::move(mixed);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Messages: header (per corpus line, built once, around a timestamp) + line + " seq=N".
// The timestamp is the current second, as a real sender stamps it: each sending thread refreshes
// its copy every 256 messages, so a run that spans several seconds carries several times (the
// store shares index entries between records of one time, so a frozen stamp would flatter it).

class MessageMaker {
 public:
  MessageMaker(const Corpus& corpus, const std::string& format)
      : corpus_(corpus), rfc5424_(format == "5424"), raw_(format == "raw") {
    static constexpr int kSeverities[] = {6, 6, 6, 5, 4, 6, 3, 6};
    pre_.reserve(corpus.lines.size());
    post_.reserve(corpus.lines.size());
    for (size_t i = 0; i < corpus.lines.size(); ++i) {
      if (raw_) {
        pre_.emplace_back();
        post_.emplace_back();
        continue;
      }
      const std::string& app = corpus.sources[corpus.lines[i].source];
      int facility = 16 + static_cast<int>(corpus.lines[i].source % 8);  // local0..local7
      int pri = facility * 8 + kSeverities[i % 8];
      std::string host = "bench-" + app + "-" + std::to_string(i % 4);
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      int pid = 1000 + static_cast<int>(i % 97);
      char buf[256];
      std::snprintf(buf, sizeof buf, rfc5424_ ? "<%d>1 " : "<%d>", pri);
      pre_.emplace_back(buf);
      if (rfc5424_) {
        std::snprintf(buf, sizeof buf, " %s %s %d - - ", host.c_str(), app.c_str(), pid);
      } else {
        std::snprintf(buf, sizeof buf, " %s %s[%d]: ", host.c_str(), app.c_str(), pid);
      }
      post_.emplace_back(buf);
    }
  }

  size_t size() const { return corpus_.lines.size(); }

  // Appends the message text for sequence number `seq` (no framing) to `out`. Thread-safe: the
  // timestamp cache is per thread.
  void Append(uint64_t seq, std::string* out) const {
    size_t i = seq % corpus_.lines.size();
    if (!raw_) {
      out->append(pre_[i]);
      out->append(Stamp());
      out->append(post_[i]);
    }
    out->append(corpus_.lines[i].text);
    out->append(" seq=");
    char num[24];
    auto r = std::to_chars(num, num + sizeof num, seq);
    out->append(num, r.ptr);
  }

  const std::string& line(uint64_t seq) const {
    return corpus_.lines[seq % corpus_.lines.size()].text;
  }
  const std::string& app(uint64_t seq) const {
    return corpus_.sources[corpus_.lines[seq % corpus_.lines.size()].source];
  }

 private:
  // The current second, formatted for the header ("Jan  2 03:04:05" or RFC 3339 with zero
  // microseconds); re-read from the clock every 256 calls on each thread.
  std::string_view Stamp() const {
    thread_local unsigned calls = 0;
    thread_local time_t second = -1;
    thread_local bool for5424 = false;
    thread_local char text[40];
    thread_local size_t len = 0;
    if (calls++ % 256 == 0 || for5424 != rfc5424_) {
      time_t now = time(nullptr);
      if (now != second || for5424 != rfc5424_) {
        second = now;
        for5424 = rfc5424_;
        tm t;
        gmtime_r(&now, &t);
        len = strftime(text, sizeof text, rfc5424_ ? "%Y-%m-%dT%H:%M:%S.000000Z" : "%b %e %H:%M:%S",
                       &t);
      }
    }
    return std::string_view(text, len);
  }

  const Corpus& corpus_;
  bool rfc5424_;
  bool raw_;
  std::vector<std::string> pre_;   // "<PRI>" or "<PRI>1 "
  std::vector<std::string> post_;  // " HOST APP[PID]: " or " HOST APP PID - - "
};

// ---------------------------------------------------------------------------------------------
// Sockets.

sockaddr_storage Resolve(const std::string& host, int port, int socktype, socklen_t* len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) Die("cannot resolve " + host + ": " + gai_strerror(rc));
  sockaddr_storage ss{};
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  freeaddrinfo(res);
  return ss;
}

int Connect(const Options& o, int socktype) {
  socklen_t len;
  sockaddr_storage ss = Resolve(o.host, o.port, socktype, &len);
  int fd = socket(ss.ss_family, socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  if (socktype == SOCK_STREAM) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  } else {
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    Die("connect " + o.host + ":" + std::to_string(o.port) + ": " + std::strerror(errno));
  }
  return fd;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

struct Totals {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> http_non2xx{0};
};

// Share of [0, count) for worker `w` of `n`: contiguous ranges, the remainder to the first.
std::pair<uint64_t, uint64_t> Range(uint64_t count, int n, int w) {
  uint64_t per = count / n, rem = count % n;
  uint64_t begin = w * per + std::min<uint64_t>(w, rem);
  uint64_t len = per + (static_cast<uint64_t>(w) < rem ? 1 : 0);
  return {begin, begin + len};
}

// ---------------------------------------------------------------------------------------------
// TCP

void TcpWorker(const Options& o, const MessageMaker& mm, int w, Totals* t) {
  auto [begin, end] = Range(o.count, o.connections, w);
  int fd = Connect(o, SOCK_STREAM);
  constexpr size_t kFlush = 256 * 1024;
  std::string buf, msg;
  buf.reserve(kFlush + 70000);
  uint64_t sent = 0, bytes = 0;
  for (uint64_t i = begin; i < end; ++i) {
    uint64_t seq = o.seq_start + i;
    if (o.octet) {
      msg.clear();
      mm.Append(seq, &msg);
      char num[24];
      auto r = std::to_chars(num, num + sizeof num, msg.size());
      buf.append(num, r.ptr);
      buf.push_back(' ');
      buf.append(msg);
    } else {
      mm.Append(seq, &buf);
      buf.push_back('\n');
    }
    ++sent;
    if (buf.size() >= kFlush || i + 1 == end) {
      if (!WriteAll(fd, buf.data(), buf.size())) {
        std::fprintf(stderr, "mamori-loadgen: connection %d: send: %s\n", w, std::strerror(errno));
        t->errors.fetch_add(1);
        // The messages of this buffer may be partly delivered; they are not counted as sent.
        break;
      }
      bytes += buf.size();
      t->messages.fetch_add(sent);
      sent = 0;
      buf.clear();
      if (PastDeadline()) break;
    }
  }
  t->bytes.fetch_add(bytes);
  shutdown(fd, SHUT_WR);
  close(fd);
}

// ---------------------------------------------------------------------------------------------
// UDP: one socket, sendmmsg batches, paced against an absolute schedule (message i is due at
// start + i / rate), so that sleeping granularity never accumulates into a rate error. The
// sender wakes once per batch (--batch datagrams, default 64: every 320 us at 200k msg/s), so
// the offered load arrives in small bursts, as it does from a busy relay.

void UdpRun(const Options& o, const MessageMaker& mm, Totals* t) {
  int fd = Connect(o, SOCK_DGRAM);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  const int batch = o.batch;
  std::vector<std::string> msgs(batch);
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> hdr(batch);
  for (auto& m : msgs) m.reserve(2048);
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  auto due_at = [&](uint64_t i) {  // absolute time message i is due
    long double s = static_cast<long double>(i) / o.rate;
    timespec ts = start;
    long double ns = start.tv_nsec + (s - static_cast<uint64_t>(s)) * 1e9L;
    ts.tv_sec += static_cast<time_t>(s) + static_cast<time_t>(ns / 1e9L);
    ts.tv_nsec = static_cast<long>(ns) % 1000000000L;
    return ts;
  };
  uint64_t i = 0, bytes = 0, errors = 0;
  while (i < o.count) {
    if (PastDeadline()) break;
    uint64_t n = std::min<uint64_t>(batch, o.count - i);
    if (o.rate > 0) {
      // How many are due now? If none, sleep until the next one is.
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long double elapsed = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) * 1e-9L;
      uint64_t due = static_cast<uint64_t>(elapsed * o.rate) + 1;
      if (due < i + n) {  // wait until a whole batch is due: one wake-up per batch
        timespec next = due_at(i + n - 1);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
        continue;
      }
    }
    for (uint64_t k = 0; k < n; ++k) {
      msgs[k].clear();
      mm.Append(o.seq_start + i + k, &msgs[k]);
      iov[k] = {msgs[k].data(), msgs[k].size()};
      hdr[k] = {};
      hdr[k].msg_hdr.msg_iov = &iov[k];
      hdr[k].msg_hdr.msg_iovlen = 1;
    }
    uint64_t done = 0;
    while (done < n) {
      int r = sendmmsg(fd, hdr.data() + done, static_cast<unsigned>(n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        // ECONNREFUSED (nobody listening, ICMP) or ENOBUFS: the datagram is lost; count it.
        ++errors;
        ++done;
        continue;
      }
      for (int k = 0; k < r; ++k) bytes += hdr[done + k].msg_len;
      done += static_cast<uint64_t>(r);
    }
    i += n;
  }
  t->messages = i - errors;
  t->bytes = bytes;
  t->errors = errors;
  close(fd);
}

// ---------------------------------------------------------------------------------------------
// HTTP: NDJSON bodies over keep-alive connections.

void JsonEscape(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 passes through
        }
    }
  }
}

// Reads one HTTP/1.1 response; returns the status code, or -1 on a connection error.
int ReadResponse(int fd, std::string* pending) {
  auto fill = [&]() {
    char buf[16384];
    ssize_t r;
    do {
      r = recv(fd, buf, sizeof buf, 0);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) return false;
    pending->append(buf, static_cast<size_t>(r));
    return true;
  };
  size_t hdr_end;
  while ((hdr_end = pending->find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return -1;
  }
  std::string head = pending->substr(0, hdr_end);
  pending->erase(0, hdr_end + 4);
  int status = -1;
  if (head.size() > 12) status = std::atoi(head.c_str() + 9);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  if (auto p = lower.find("content-length:"); p != std::string::npos) {
    size_t len = std::strtoull(lower.c_str() + p + 15, nullptr, 10);
    while (pending->size() < len) {
      if (!fill()) return -1;
    }
    pending->erase(0, len);
  } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    size_t end;
    while ((end = pending->find("\r\n0\r\n\r\n")) == std::string::npos &&
           pending->rfind("0\r\n\r\n", 0) != 0) {
      if (!fill()) return -1;
    }
    pending->erase(0, end == std::string::npos ? 5 : end + 7);
  }
  return status;
}

void HttpWorker(const Options& o, const MessageMaker& mm, int w, Totals* t) {
  auto [begin, end] = Range(o.count, o.connections, w);
  int fd = Connect(o, SOCK_STREAM);
  char ts[40];
  time_t now = time(nullptr);
  tm tmv;
  gmtime_r(&now, &tmv);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  std::string body, req, msg, pending;
  uint64_t bytes = 0;
  for (uint64_t i = begin; i < end;) {
    if (PastDeadline()) break;
    body.clear();
    uint64_t n = std::min<uint64_t>(o.batch, end - i);
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t seq = o.seq_start + i + k;
      const std::string& app = mm.app(seq);
      body.append("{\"@timestamp\":\"").append(ts).append("\",\"host\":\"bench-");
      JsonEscape(app, &body);
      body.append("\",\"app\":\"");
      JsonEscape(app, &body);
      body.append("\",\"seq\":").append(std::to_string(seq)).append(",\"message\":\"");
      JsonEscape(mm.line(seq), &body);
      body.append(" seq=").append(std::to_string(seq)).append("\"}\n");
    }
    req.clear();
    req.append("POST ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(o.host);
    req.append("\r\nContent-Type: application/x-ndjson\r\nContent-Length: ");
    req.append(std::to_string(body.size())).append("\r\n\r\n");
    if (!WriteAll(fd, req.data(), req.size()) || !WriteAll(fd, body.data(), body.size())) {
      std::fprintf(stderr, "mamori-loadgen: http %d: send: %s\n", w, std::strerror(errno));
      t->errors.fetch_add(1);
      break;
    }
    int status = ReadResponse(fd, &pending);
    if (status < 0) {
      std::fprintf(stderr, "mamori-loadgen: http %d: connection closed\n", w);
      t->errors.fetch_add(1);
      break;
    }
    bytes += req.size() + body.size();
    if (status / 100 != 2) {
      t->http_non2xx.fetch_add(1);
      if (t->http_non2xx.load() == 1) {
        std::fprintf(stderr, "mamori-loadgen: http status %d for POST %s\n", status,
                     o.path.c_str());
      }
    } else {
      t->messages.fetch_add(n);
    }
    i += n;
  }
  t->bytes.fetch_add(bytes);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  Corpus corpus = LoadCorpus(o.corpus);
  MessageMaker mm(corpus, o.format);
  if (!o.quiet) {
    std::fprintf(stderr, "mamori-loadgen: %zu lines from %zu data sets; %s to %s:%d\n",
                 corpus.lines.size(), corpus.sources.size(), o.mode.c_str(), o.host.c_str(),
                 o.port);
  }
  Totals t;
  double start_unix = NowUnix();
  double t0 = NowMono();
  if (o.duration > 0) g_deadline = t0 + o.duration;
  if (o.mode == "udp") {
    UdpRun(o, mm, &t);
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < o.connections; ++w) {
      threads.emplace_back([&, w] {
        if (o.mode == "tcp") {
          TcpWorker(o, mm, w, &t);
        } else {
          HttpWorker(o, mm, w, &t);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  double secs = NowMono() - t0;
  double end_unix = start_unix + secs;
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec * 1e-6;
  uint64_t msgs = t.messages.load();
  std::printf(
      "{\"mode\":\"%s\",\"format\":\"%s\",\"framing\":\"%s\",\"connections\":%d,"
      "\"rate_offered\":%llu,\"count\":%llu,\"messages\":%llu,\"bytes\":%llu,"
      "\"seconds\":%.6f,\"msg_per_sec\":%.1f,\"mb_per_sec\":%.2f,\"start_unix\":%.6f,"
      "\"end_unix\":%.6f,\"seq_start\":%llu,\"errors\":%llu,\"http_non2xx\":%llu,"
      "\"cpu_seconds\":%.3f,\"stopped_by_duration\":%s}\n",
      o.mode.c_str(), o.format.c_str(), o.octet ? "octet" : "lf", o.connections,
      static_cast<unsigned long long>(o.rate), static_cast<unsigned long long>(o.count),
      static_cast<unsigned long long>(msgs), static_cast<unsigned long long>(t.bytes.load()), secs,
      secs > 0 ? msgs / secs : 0.0, secs > 0 ? t.bytes.load() / secs / 1e6 : 0.0, start_unix,
      end_unix, static_cast<unsigned long long>(o.seq_start),
      static_cast<unsigned long long>(t.errors.load()),
      static_cast<unsigned long long>(t.http_non2xx.load()), cpu,
      g_stopped_early ? "true" : "false");
  return t.errors.load() == 0 && t.http_non2xx.load() == 0 ? 0 : 1;
}
