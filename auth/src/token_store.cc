#include "mamori/auth/token_store.h"

#include <fcntl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mamori/core/log.h"

namespace mamori::auth {
namespace {

constexpr std::string_view kHeader = "# mamori tokens v1";

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return out;
}

bool ParseI64(std::string_view s, std::int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes `text` to path atomically with mode 0600: temporary file, fsync, rename, fsync dir.
Status WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError(Errno(tmp));
  ::fchmod(fd, 0600);  // an old .tmp may have had another mode
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = Status::IOError(Errno("writing " + tmp));
      ::close(fd);
      return st;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status::IOError(Errno("syncing " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError(Errno("renaming " + tmp));
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

// Holds an exclusive flock on "<path>.lock" while alive.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      status_ = Status::IOError(Errno(path + ".lock"));
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        status_ = Status::IOError(Errno("locking " + path + ".lock"));
        return;
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  const Status& status() const { return status_; }

 private:
  int fd_ = -1;
  Status status_;
};

template <typename Fn>
Status Modify(const std::string& path, Fn fn) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  FileLock lock(path);
  if (!lock.status().ok()) return lock.status();
  auto entries = ReadTokenFile(path);
  if (!entries.ok()) return entries.status();
  if (Status st = fn(*entries); !st.ok()) return st;
  return WriteAtomically(path, FormatTokenFile(*entries));
}

}  // namespace

Result<std::vector<TokenEntry>> ParseTokenFile(std::string_view text) {
  std::vector<TokenEntry> out;
  std::size_t line_no = 0;
  bool header = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    const std::string where = "token file line " + std::to_string(line_no) + ": ";
    if (line_no == 1) {
      if (line != kHeader)
        return Status::Corruption(where + "expected '" + std::string(kHeader) + "'");
      header = true;
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    auto f = SplitTabs(line);
    if (f.size() != 5) return Status::Corruption(where + "expected 5 TAB-separated fields");
    TokenEntry e;
    e.name = std::string(f[0]);
    if (!ValidTokenName(e.name)) return Status::Corruption(where + "bad token name");
    if (!ParseRole(f[1], &e.role)) return Status::Corruption(where + "unknown role");
    if (f[2].substr(0, 7) != "sha256:" || !HashFromHex(f[2].substr(7), &e.hash)) {
      return Status::Corruption(where + "expected sha256:<64 hex digits>");
    }
    if (!ParseI64(f[3], &e.created_ns) || !ParseI64(f[4], &e.revoked_ns)) {
      return Status::Corruption(where + "bad created or revoked time");
    }
    for (const auto& o : out) {
      if (o.active() && e.active() && o.name == e.name) {
        return Status::Corruption(where + "two active tokens named '" + e.name + "'");
      }
    }
    out.push_back(std::move(e));
  }
  if (!header && line_no > 0) return Status::Corruption("token file: no header");
  return out;
}

std::string FormatTokenFile(const std::vector<TokenEntry>& entries) {
  std::string out(kHeader);
  out += "\n";
  for (const auto& e : entries) {
    out += e.name + "\t" + std::string(RoleName(e.role)) + "\tsha256:" + HashToHex(e.hash) + "\t" +
           std::to_string(e.created_ns) + "\t" + std::to_string(e.revoked_ns) + "\n";
  }
  return out;
}

Result<std::vector<TokenEntry>> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::vector<TokenEntry>{};
    return Status::IOError(Errno(path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = ParseTokenFile(ss.str());
  if (!parsed.ok()) return Status::Corruption(path + ": " + parsed.status().message());
  return parsed;
}

Result<std::string> CreateToken(const std::string& path, const std::string& name, Role role,
                                std::int64_t now_ns) {
  if (!ValidTokenName(name)) {
    return Status::InvalidArgument("name: 1-64 characters of A-Z a-z 0-9 . _ @ -, got '" + name +
                                   "'");
  }
  auto token = GenerateToken();
  if (!token.ok()) return token.status();
  Status st = Modify(path, [&](std::vector<TokenEntry>& entries) {
    for (auto it = entries.begin(); it != entries.end();) {
      if (it->name != name) {
        ++it;
      } else if (it->active()) {
        return Status::InvalidArgument("a token named '" + name +
                                       "' exists: revoke it first or choose another name");
      } else {
        it = entries.erase(it);  // a revoked token of that name: replaced
      }
    }
    TokenEntry e;
    e.name = name;
    e.role = role;
    e.hash = HashToken(*token);
    e.created_ns = now_ns;
    entries.push_back(std::move(e));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return token;
}

Status RevokeToken(const std::string& path, const std::string& name, std::int64_t now_ns) {
  return Modify(path, [&](std::vector<TokenEntry>& entries) {
    for (auto& e : entries) {
      if (e.name == name && e.active()) {
        e.revoked_ns = now_ns > 0 ? now_ns : 1;
        return Status::Ok();
      }
    }
    return Status::NotFound("no active token named '" + name + "'");
  });
}

// --- TokenSet ----------------------------------------------------------------------------------

struct TokenSet::Impl {
  std::string path;
  std::mutex mu;
  std::vector<TokenEntry> entries;  // guarded by mu
  // What the loaded file looked like (guarded by mu): reload when any differs.
  bool exists = false;
  ino_t ino = 0;
  off_t size = 0;
  struct timespec mtime {};
  prometheus::Gauge* active = nullptr;
  prometheus::Gauge* revoked = nullptr;
  prometheus::Counter* file_errors = nullptr;

  // REQUIRES: mu held.
  Status MaybeReload(bool first) {
    struct stat st {};
    bool now_exists = ::stat(path.c_str(), &st) == 0;
    if (!now_exists && errno != ENOENT) return Status::IOError(Errno(path));
    if (!first && now_exists == exists &&
        (!now_exists ||
         (st.st_ino == ino && st.st_size == size && st.st_mtim.tv_sec == mtime.tv_sec &&
          st.st_mtim.tv_nsec == mtime.tv_nsec))) {
      return Status::Ok();
    }
    // Remember the new state before reading: a bad file is reported once, not per request.
    exists = now_exists;
    ino = now_exists ? st.st_ino : 0;
    size = now_exists ? st.st_size : 0;
    mtime = now_exists ? st.st_mtim : timespec{};
    if (now_exists && (st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%03o", static_cast<unsigned>(st.st_mode & 0777));
      log::Warn("auth", path + " has mode " + mode + ": group or others may read it; chmod 600");
    }
    auto loaded = ReadTokenFile(path);
    if (!loaded.ok()) {
      if (file_errors) file_errors->Increment();
      if (!first) log::Error("auth", loaded.status().message() + ": keeping the previous tokens");
      return loaded.status();
    }
    entries = std::move(loaded).value();
    std::size_t n_active = 0;
    for (const auto& e : entries) n_active += e.active();
    if (active) active->Set(static_cast<double>(n_active));
    if (revoked) revoked->Set(static_cast<double>(entries.size() - n_active));
    if (!first) {
      log::Info("auth", "reloaded " + path + ": " + std::to_string(n_active) + " active tokens");
    }
    return Status::Ok();
  }
};

TokenSet::TokenSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenSet::~TokenSet() = default;

Result<std::unique_ptr<TokenSet>> TokenSet::Open(const std::string& path,
                                                 prometheus::Registry* registry) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  if (registry != nullptr) {
    auto& tokens = prometheus::BuildGauge()
                       .Name("mamori_auth_tokens")
                       .Help("API tokens in the token file, by state (active, revoked)")
                       .Register(*registry);
    impl->active = &tokens.Add({{"state", "active"}});
    impl->revoked = &tokens.Add({{"state", "revoked"}});
    impl->file_errors = &prometheus::BuildCounter()
                             .Name("mamori_auth_token_file_errors_total")
                             .Help("Token file reloads that failed (the previous tokens stay)")
                             .Register(*registry)
                             .Add({});
  }
  std::lock_guard<std::mutex> lock(impl->mu);
  if (Status st = impl->MaybeReload(true); !st.ok()) return st;
  return std::unique_ptr<TokenSet>(new TokenSet(std::move(impl)));
}

AuthFailure TokenSet::Authenticate(std::string_view authorization, Identity* who) {
  std::string token;
  AuthFailure f = ParseBearer(authorization, &token);
  if (f != AuthFailure::kNone) return f;
  const TokenHash h = HashToken(token);
  std::lock_guard<std::mutex> lock(impl_->mu);
  (void)impl_->MaybeReload(false);  // logged and counted; the previous set stays
  const TokenEntry* found = nullptr;
  for (const auto& e : impl_->entries) {
    // Every entry is compared, in constant time, without stopping at a match.
    if (HashEqual(e.hash, h) && found == nullptr) found = &e;
  }
  if (found == nullptr) return AuthFailure::kUnknown;
  if (!found->active()) return AuthFailure::kRevoked;
  who->name = found->name;
  who->role = found->role;
  return AuthFailure::kNone;
}

std::size_t TokenSet::active_count() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  (void)impl_->MaybeReload(false);
  std::size_t n = 0;
  for (const auto& e : impl_->entries) n += e.active();
  return n;
}

}  // namespace mamori::auth
