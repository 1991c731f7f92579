#include "mamori/storage/side_db.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store_internal.h"

namespace mamori::storage {

Status FromRocksStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return internal::FromRocks(s, what);
}

Result<std::unique_ptr<SideDb>> SideDb::Open(const std::string& dir, bool read_only,
                                             std::string_view label, std::string_view what) {
  namespace fs = std::filesystem;
  const std::string prefix = std::string(label) + " dir " + dir;
  if (dir.empty()) return Status::InvalidArgument(std::string(label) + " dir: must not be empty");
  std::unique_ptr<SideDb> side(new SideDb());
  std::error_code ec;
  rocksdb::Options opts;
  opts.max_open_files = -1;  // required by secondary instances
  opts.keep_log_file_num = 3;
  opts.max_background_jobs = 1;
  rocksdb::Status s;
  if (read_only) {
    if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
      return Status::NotFound(prefix + ": no " + std::string(what) + " there");
    }
    std::string tmpl =
        (fs::temp_directory_path(ec) / ("mamori-" + std::string(label) + "-XXXXXX")).string();
    if (mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot create a temporary dir");
    side->secondary_dir_ = tmpl;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      s = rocksdb::DB::OpenAsSecondary(opts, dir, side->secondary_dir_, &side->db_);
      if (s.ok()) s = side->db_->TryCatchUpWithPrimary();
      if (s.ok()) break;
      delete side->db_;
      side->db_ = nullptr;
    }
  } else {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError(prefix + ": " + ec.message());
    opts.create_if_missing = true;
    s = rocksdb::DB::Open(opts, dir, &side->db_);
  }
  if (!s.ok()) return FromRocksStatus(s, "opening " + std::string(what) + " " + dir);
  return side;
}

SideDb::~SideDb() {
  if (db_ != nullptr) {
    db_->Close().PermitUncheckedError();
    delete db_;
  }
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(secondary_dir_, ec);
  }
}

}  // namespace mamori::storage
