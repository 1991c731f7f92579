// A deliberately small blocking HTTP/1.1 client over a raw socket, for testing the server
// byte by byte: send anything (pipelined requests, garbage), read responses one at a time.
// Every read has a deadline, so a server bug fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mamori/core/config.h"

namespace mamori::api::testing {

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // case-insensitive, "" if absent
};

class TestClient {
 public:
  static constexpr std::chrono::milliseconds kTimeout{5000};

  // Connects at once; connected() tells whether it worked.
  explicit TestClient(const HostPort& server);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed; none for HEAD or 1xx/204/304). nullopt on EOF,
  // timeout or a malformed response.
  std::optional<ClientResponse> Read(bool head = false);
  // Waits until the server closes the connection (EOF or reset). Data still arriving is
  // discarded. False on timeout.
  bool WaitClosed();

  // Convenience: a GET with Host, returning the response.
  std::optional<ClientResponse> Get(std::string_view target);

 private:
  bool Fill();  // one recv() into buf_; false on EOF/error/timeout
  int fd_ = -1;
  std::string buf_;
};

}  // namespace mamori::api::testing
