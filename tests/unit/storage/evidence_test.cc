// Tamper evidence: the hash chain, signed checkpoints, verification (each tamper kind names
// the right seq), evidence bundles, retention and disposal.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "keys.h"
#include "mamori/core/clock.h"
#include "mamori/storage/bundle.h"
#include "mamori/storage/chain.h"
#include "mamori/storage/evidence_service.h"
#include "mamori/storage/evidence_store.h"
#include "mamori/storage/verify.h"
#include "raw_db.h"
#include "record_codec.h"
#include "test_util.h"

namespace mamori::storage {
namespace {

namespace fs = std::filesystem;
using testing::kSecond;
using testing::kT0;
using testing::MakeRecord;
using testing::RawDb;
using testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class EvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = SigningKey::LoadOrCreate(KeyPath(), nullptr);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    key_ = std::move(k).value();
  }
  std::string DbDir() const { return dir_.path() + "/db"; }
  std::string KeyPath() const { return dir_.path() + "/signing.key"; }
  std::string CpFile() const { return dir_.path() + "/checkpoints.log"; }

  std::unique_ptr<EvidenceStore> Open(bool read_only = false) {
    StoreOptions o;
    o.dir = DbDir();
    o.read_only = read_only;
    o.compression = StoreOptions::Compression::kNone;  // so that files can be grepped for plaintext
    auto s = EvidenceStore::Open(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Appends n records (messages "msg-<seq>"), one per second from kT0.
  void AppendN(EvidenceStore& store, int n, InfoClass cls = InfoClass::kIII,
               std::int64_t t0 = kT0) {
    std::vector<Record> batch;
    const std::uint64_t first = store.next_seq();
    for (int i = 0; i < n; ++i) {
      Record r =
          MakeRecord(t0 + (first + i) * kSecond, "web-01", "msg-" + std::to_string(first + i));
      r.event.info_class = cls;
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store.Append(batch).ok());
  }

  // A checkpoint in the store and in the checkpoint file.
  void Checkpoint(EvidenceStore& store) {
    auto cp = store.AddCheckpoint(*key_, kT0);
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    ASSERT_TRUE(cp->has_value());
    std::ofstream(CpFile(), std::ios::app) << (*cp)->Line() << "\n";
  }

  // 20 records, checkpoints after 10 and 20.
  void Build() {
    auto store = Open();
    ASSERT_TRUE(store->RegisterKey(key_->public_key()).ok());
    AppendN(*store, 10);
    Checkpoint(*store);
    AppendN(*store, 10);
    Checkpoint(*store);
  }

  VerifyReport Verify(VerifyOptions o = {}) {
    auto store = Open(/*read_only=*/true);
    if (o.checkpoint_file.empty() && fs::exists(CpFile())) o.checkpoint_file = CpFile();
    return VerifyStore(*store, o);
  }

  void ExpectFailure(const VerifyReport& r, VerifyFailure f, std::uint64_t seq) {
    EXPECT_EQ(r.failure, f) << VerifyReportToText(r);
    EXPECT_EQ(r.failed_seq, seq) << VerifyReportToText(r);
  }

  // Decodes record `seq`, lets `edit` change it, re-encodes it with chain extensions
  // (`hash`, or the stored one).
  std::string Edited(RawDb& db, std::uint64_t seq, const std::function<void(Record&)>& edit,
                     const std::optional<Hash>& hash = std::nullopt) {
    Record r;
    internal::ChainExt ext;
    EXPECT_TRUE(internal::DecodeRecord(db.Rec(seq), &r, &ext).ok());
    edit(r);
    std::string v;
    internal::EncodeRecord(r, &v);
    internal::AppendChainExt(ext.salt, hash.value_or(ext.hash), &v);
    return v;
  }

  TempDir dir_;
  std::unique_ptr<SigningKey> key_;
};

TEST_F(EvidenceTest, IntactStoreVerifies) {
  Build();
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 20u);
  EXPECT_EQ(r.checkpoints, 2u);
  EXPECT_EQ(r.file_checkpoints, 2u);
  EXPECT_EQ(r.unanchored, 0u);
  EXPECT_EQ(r.key_id, key_->key_id());
}

// SHA-256 computed by OpenSSL's one-shot EVP_Digest: an implementation independent of Sha256.
Hash EvpSha256(std::string_view data) {
  Hash h;
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), h.data(), &n, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(n, 32u);
  return h;
}

std::string HexOf(const Hash& h) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

TEST(Sha256Test, KnownAnswersAndIncrementalUpdates) {
  // FIPS 180-2 vectors: empty, one block, two blocks.
  EXPECT_EQ(HexOf(Sha256::Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf(Sha256::Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(HexOf(Sha256::Of(two)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Split updates of every length up to 300 bytes, and Final() leaving a reset context.
  Sha256 s;
  std::string data;
  for (int len = 0; len <= 300; ++len) {
    data.push_back(static_cast<char>(len * 31));
    const std::size_t cut = data.size() / 3;
    s.Update(std::string_view(data).substr(0, cut));
    s.Update(std::string_view(data).substr(cut));
    ASSERT_EQ(s.Final(), EvpSha256(data)) << "length " << data.size();
  }
  s.Update("abc");
  s.Reset();
  EXPECT_EQ(s.Final(), EvpSha256(""));
}

TEST(Sha256Test, DigestAndChainStepMatchTheFormatDefinition) {
  // FORMAT.md / chain.h: h_i = SHA-256("MCH1" || h_{i-1} || seq_i (8 bytes, big endian) || d_i).
  ChainHasher h;
  const Hash prev = Sha256::Of("prev");
  const Hash digest = Sha256::Of("digest");
  std::string in = "MCH1";
  in.append(reinterpret_cast<const char*>(prev.data()), 32);
  in.append("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  in.append(reinterpret_cast<const char*>(digest.data()), 32);
  EXPECT_EQ(h.Link(prev, 0x0102030405060708ull, digest), EvpSha256(in));

  // digest_i = SHA-256("MRD1" || received_ns (8) || transport (1) || flags (4) ||
  //   original_size (8) || info_class (1) || listener, peer, salt (each with a 4-byte length)
  //   || raw length (8) || raw bytes), integers big endian.
  Record rec = MakeRecord(kT0, "h", "m");
  rec.raw.received_ns = 0x1112131415161718;
  rec.raw.flags = 0x21222324;
  rec.raw.original_size = 0x3132333435363738;
  rec.raw.listener = "tcp:1";
  rec.raw.peer = "127.0.0.1:9";
  rec.raw.bytes = std::string(200, 'r');
  const std::string salt(kSaltBytes, 's');
  auto be = [](std::uint64_t v, int n) {
    std::string b(n, '\0');
    for (int i = n - 1; i >= 0; --i, v >>= 8) b[i] = static_cast<char>(v);
    return b;
  };
  std::string d = "MRD1" + be(0x1112131415161718, 8) +
                  std::string(1, static_cast<char>(rec.raw.transport)) + be(0x21222324, 4) +
                  be(0x3132333435363738, 8) + std::string(1, static_cast<char>(InfoClass::kI)) +
                  be(5, 4) + "tcp:1" + be(11, 4) + "127.0.0.1:9" + be(kSaltBytes, 4) + salt +
                  be(200, 8) + rec.raw.bytes;
  EXPECT_EQ(h.RecordDigest(rec.raw, InfoClass::kI, salt), EvpSha256(d));
}

TEST_F(EvidenceTest, DigestCoversEveryEvidenceField) {
  ChainHasher h;
  const Record base = MakeRecord(kT0, "h", "m");
  const std::string salt(kSaltBytes, 'x');
  const Hash d0 = h.RecordDigest(base.raw, InfoClass::kIII, salt);
  std::vector<std::function<void(RawRecord&)>> edits = {
      [](RawRecord& r) { r.bytes += "x"; },
      [](RawRecord& r) { r.received_ns++; },
      [](RawRecord& r) { r.listener += "x"; },
      [](RawRecord& r) { r.peer += "x"; },
      [](RawRecord& r) { r.flags ^= 1; },
      [](RawRecord& r) { r.original_size++; },
      [](RawRecord& r) { r.transport = Transport::kTcp; },
      // Moving a byte between length-prefixed fields changes the digest too.
      [](RawRecord& r) {
        r.peer = r.listener.back() + r.peer;
        r.listener.pop_back();
      },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    RawRecord raw = base.raw;
    edits[i](raw);
    EXPECT_NE(h.RecordDigest(raw, InfoClass::kIII, salt), d0) << "edit " << i;
  }
  EXPECT_NE(h.RecordDigest(base.raw, InfoClass::kI, salt), d0);
  EXPECT_NE(h.RecordDigest(base.raw, InfoClass::kIII, std::string(kSaltBytes, 'y')), d0);
  EXPECT_NE(h.Link(kZeroHash, 1, d0), h.Link(kZeroHash, 2, d0));
}

TEST_F(EvidenceTest, ModifiedRecordNamesItsSeq) {
  Build();
  {
    RawDb db(DbDir());
    db.PutRec(7, Edited(db, 7, [](Record& r) { r.raw.bytes[5] ^= 1; }));
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 7);
}

TEST_F(EvidenceTest, ModifiedMetadataNamesItsSeq) {
  Build();
  {
    RawDb db(DbDir());
    db.PutRec(4, Edited(db, 4, [](Record& r) { r.raw.peer = "10.6.6.6:514"; }));
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 4);
}

TEST_F(EvidenceTest, GarbledValueNamesItsSeq) {
  Build();
  {
    RawDb db(DbDir());
    std::string v = db.Rec(9);
    v.resize(v.size() - 3);
    db.PutRec(9, v);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 9);
}

TEST_F(EvidenceTest, DeletedRecordNamesItsSeq) {
  Build();
  {
    RawDb db(DbDir());
    db.DeleteRec(13);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 13);
}

TEST_F(EvidenceTest, DeletedLastRecordIsDetected) {
  Build();
  {
    RawDb db(DbDir());
    db.DeleteRec(20);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 20);
}

TEST_F(EvidenceTest, DeletedTailWithRewrittenCountersIsCaughtByCheckpoint) {
  Build();
  {
    RawDb db(DbDir());
    Record r;
    internal::ChainExt ext;
    ASSERT_TRUE(internal::DecodeRecord(db.Rec(17), &r, &ext).ok());
    for (int s = 18; s <= 20; ++s) db.DeleteRec(s);
    db.SetNextSeq(18);
    db.Put("meta", "chain_head", internal::RecordKey(17) + std::string(AsBytes(ext.hash)));
  }
  ExpectFailure(Verify(), VerifyFailure::kCheckpoint, 20);
}

TEST_F(EvidenceTest, InsertedRecordNamesItsSeq) {
  Build();
  {
    RawDb db(DbDir());
    // Shift 7..20 up by one and put a forged record at 7 (with a plausible stored hash).
    for (std::uint64_t s = 20; s >= 7; --s) db.PutRec(s + 1, db.Rec(s));
    db.PutRec(7, Edited(db, 6, [](Record& r) { r.raw.bytes = "<13>forged"; }));
    db.SetNextSeq(22);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 7);
}

TEST_F(EvidenceTest, RecordAppendedBehindTheCounterIsDetected) {
  Build();
  {
    RawDb db(DbDir());
    db.PutRec(21, db.Rec(20));
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 21);
}

TEST_F(EvidenceTest, ReorderedRecordsNameTheFirstSeq) {
  Build();
  {
    RawDb db(DbDir());
    const std::string a = db.Rec(5), b = db.Rec(12);
    db.PutRec(5, b);
    db.PutRec(12, a);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 5);
}

// A store written before record value version 2 (every value in version 1) reads, searches and
// verifies unchanged, also when new (version 2) records are appended to it.
TEST_F(EvidenceTest, StoreOfVersion1RecordsStillReadsAndVerifies) {
  Build();
  std::vector<std::string> v2_values;
  {
    RawDb db(DbDir());
    for (std::uint64_t s = 1; s <= 20; ++s) {
      Record r;
      internal::ChainExt ext;
      const std::string v2 = db.Rec(s);
      v2_values.push_back(v2);
      ASSERT_TRUE(internal::DecodeRecord(v2, &r, &ext).ok());
      ASSERT_EQ(v2[0], internal::kRecordFormatV2);
      std::string v1;
      internal::EncodeRecordV1(r, &v1);
      internal::AppendChainExt(ext.salt, ext.hash, &v1);
      ASSERT_NE(v1, v2);
      db.PutRec(s, v1);
    }
  }
  VerifyReport rep = Verify();
  ASSERT_TRUE(rep.ok()) << VerifyReportToText(rep);
  EXPECT_EQ(rep.records, 20u);
  {
    auto store = Open();
    for (std::uint64_t s = 1; s <= 20; ++s) {
      auto got = store->Get(s);
      ASSERT_TRUE(got.ok() && got->has_value());
      Record want;
      ASSERT_TRUE(internal::DecodeRecord(v2_values[s - 1], &want).ok());
      EXPECT_EQ((*got)->raw.bytes, want.raw.bytes);
      EXPECT_EQ((*got)->event.host, "web-01");
      EXPECT_EQ((*got)->event.message, "msg-" + std::to_string(s));
      EXPECT_EQ((*got)->event.app, want.event.app);
      EXPECT_EQ((*got)->event.format, want.event.format);
    }
    Query q;
    q.host = "web-01";
    q.limit = 100;
    auto page = store->Search(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->records.size(), 20u);
    AppendN(*store, 5);  // version 2 after version 1, one chain
    Checkpoint(*store);
  }
  rep = Verify();
  ASSERT_TRUE(rep.ok()) << VerifyReportToText(rep);
  EXPECT_EQ(rep.records, 25u);
}

// A forger rewrites record 15 and recomputes the chain from there to the end, so that every
// record matches its stored hash. The signed checkpoint at seq 20 no longer matches.
TEST_F(EvidenceTest, RecomputedChainIsCaughtByCheckpoints) {
  Build();
  {
    RawDb db(DbDir());
    ChainHasher h;
    Record prev_r;
    internal::ChainExt prev;
    ASSERT_TRUE(internal::DecodeRecord(db.Rec(14), &prev_r, &prev).ok());
    Hash head = prev.hash;
    for (std::uint64_t s = 15; s <= 20; ++s) {
      Record r;
      internal::ChainExt ext;
      ASSERT_TRUE(internal::DecodeRecord(db.Rec(s), &r, &ext).ok());
      if (s == 15) r.raw.bytes = "<13>nothing happened here";
      head = h.Link(head, s, h.RecordDigest(r.raw, r.event.info_class, ext.salt));
      std::string v;
      internal::EncodeRecord(r, &v);
      internal::AppendChainExt(ext.salt, head, &v);
      db.PutRec(s, v);
    }
    db.Put("meta", "chain_head", internal::RecordKey(20) + std::string(AsBytes(head)));
  }
  VerifyReport r = Verify();
  ExpectFailure(r, VerifyFailure::kCheckpoint, 20);
  EXPECT_NE(r.what.find("11..20"), std::string::npos) << r.what;
}

// The forger also holds the signing key and re-signs the store's checkpoints: only the
// checkpoint file outside the store catches him.
TEST_F(EvidenceTest, ResignedStoreIsCaughtByTheCheckpointFile) {
  Build();
  {
    RawDb db(DbDir());
    ChainHasher h;
    Hash head = kZeroHash;
    for (std::uint64_t s = 1; s <= 20; ++s) {
      Record r;
      internal::ChainExt ext;
      ASSERT_TRUE(internal::DecodeRecord(db.Rec(s), &r, &ext).ok());
      if (s == 3) r.raw.bytes = "<13>rewritten";
      head = h.Link(head, s, h.RecordDigest(r.raw, r.event.info_class, ext.salt));
      std::string v;
      internal::EncodeRecord(r, &v);
      internal::AppendChainExt(ext.salt, head, &v);
      db.PutRec(s, v);
      if (s == 10 || s == 20) {
        const std::uint64_t id = s / 10;
        auto e = ParseLogLine(db.Get("evidence", internal::RecordKey(id)));
        ASSERT_TRUE(e.ok());
        e->head = head;
        SignEntry(*key_, &*e);
        db.Put("evidence", internal::RecordKey(id), e->Line());
      }
    }
    db.Put("meta", "chain_head", internal::RecordKey(20) + std::string(AsBytes(head)));
  }
  VerifyOptions without_file;
  without_file.checkpoint_file = "/dev/null";  // an empty file: nothing to anchor to
  EXPECT_TRUE(Verify(without_file).ok()) << "the store alone cannot catch a key holder";
  VerifyReport r = Verify();
  EXPECT_EQ(r.failure, VerifyFailure::kCheckpoint) << VerifyReportToText(r);
  EXPECT_NE(r.what.find("disagree"), std::string::npos) << r.what;
}

TEST_F(EvidenceTest, ForgedCheckpointSignatureIsDetected) {
  Build();
  {
    RawDb db(DbDir());
    std::string line = db.Get("evidence", internal::RecordKey(2));
    line.back() = line.back() == '0' ? '1' : '0';
    db.Put("evidence", internal::RecordKey(2), line);
  }
  fs::remove(CpFile());
  ExpectFailure(Verify(), VerifyFailure::kCheckpoint, 20);
}

TEST_F(EvidenceTest, CheckpointsOfAnotherKeyAreRejected) {
  Build();
  auto other = SigningKey::LoadOrCreate(dir_.path() + "/other.key", nullptr);
  ASSERT_TRUE(other.ok());
  VerifyOptions o;
  o.public_key_pem = (*other)->public_key().pem();
  VerifyReport r = Verify(o);
  EXPECT_EQ(r.failure, VerifyFailure::kCheckpoint) << VerifyReportToText(r);
}

TEST_F(EvidenceTest, DeletedStoreCheckpointIsDetected) {
  Build();
  {
    RawDb db(DbDir());
    db.Delete("evidence", internal::RecordKey(2));
  }
  VerifyReport r = Verify();
  EXPECT_EQ(r.failure, VerifyFailure::kCheckpoint) << VerifyReportToText(r);
  EXPECT_NE(r.what.find("missing from the store"), std::string::npos) << r.what;
}

TEST_F(EvidenceTest, TamperedCheckpointFileIsDetected) {
  Build();
  std::string text = ReadAll(CpFile());
  text[text.find("seq=20") + 5] = '1';  // seq=21: the line no longer verifies
  WriteAll(CpFile(), text);
  EXPECT_EQ(Verify().failure, VerifyFailure::kCheckpoint);
}

TEST_F(EvidenceTest, IncompleteLastCheckpointLineIsAWarning) {
  Build();
  std::ofstream(CpFile(), std::ios::app) << "mamori-checkpoint v1 id=3 ti";
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << VerifyReportToText(r);
  ASSERT_EQ(r.warnings.size(), 1u);
}

TEST_F(EvidenceTest, RangeVerification) {
  Build();
  VerifyOptions o;
  o.from = 5;
  o.to = 12;
  VerifyReport r = Verify(o);
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 8u);
  EXPECT_EQ(r.first_seq, 5u);
  EXPECT_EQ(r.last_seq, 12u);
  EXPECT_EQ(r.file_checkpoints, 1u);  // the one at 10
  {
    RawDb db(DbDir());
    db.PutRec(8, Edited(db, 8, [](Record& r) { r.raw.bytes += "!"; }));
  }
  ExpectFailure(Verify(o), VerifyFailure::kChain, 8);
  o.from = 13;
  EXPECT_TRUE(Verify(o).ok());
}

TEST_F(EvidenceTest, ChainContinuesAcrossReopen) {
  Build();
  {
    auto store = Open();
    EXPECT_EQ(store->chain_head().seq, 20u);
    AppendN(*store, 5);
    auto none = store->AddCheckpoint(*key_, kT0);
    ASSERT_TRUE(none.ok());
    ASSERT_TRUE(none->has_value());
    auto again = store->AddCheckpoint(*key_, kT0);  // the head did not move
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->has_value());
  }
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 25u);
  EXPECT_EQ(r.checkpoints, 3u);
}

TEST_F(EvidenceTest, UnchainedRecordsFailVerification) {
  {
    StoreOptions o;
    o.dir = DbDir();
    o.chain = false;
    auto store = EvidenceStore::Open(o);
    ASSERT_TRUE(store.ok());
    AppendN(**store, 3);
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 1);
}

TEST_F(EvidenceTest, KeyFileIsPrivateAndReloads) {
  struct stat st;
  ASSERT_EQ(::stat(KeyPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string warning;
  auto again = SigningKey::LoadOrCreate(KeyPath(), &warning);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->key_id(), key_->key_id());
  EXPECT_TRUE(warning.empty());
  auto pub = PublicKey::FromPem(key_->public_key().pem());
  ASSERT_TRUE(pub.ok());
  const std::string sig = key_->Sign("hello");
  EXPECT_TRUE(pub->Verify("hello", sig));
  EXPECT_FALSE(pub->Verify("hellO", sig));
  // A store refuses a key that is not its own.
  auto store = Open();
  ASSERT_TRUE(store->RegisterKey(key_->public_key()).ok());
  auto other = SigningKey::LoadOrCreate(dir_.path() + "/other.key", nullptr);
  EXPECT_FALSE(store->RegisterKey((*other)->public_key()).ok());
}

TEST_F(EvidenceTest, LogLinesAreCanonical) {
  LogEntry e;
  e.id = 3;
  e.time_ns = 5;
  e.seq = 7;
  SignEntry(*key_, &e);
  auto p = ParseLogLine(e.Line());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(VerifyEntry(*p, key_->public_key()));
  std::string bad = e.Line();
  bad.replace(bad.find("seq=7"), 5, "seq=07");
  EXPECT_FALSE(ParseLogLine(bad).ok());
  EXPECT_FALSE(ParseLogLine(e.Line() + " ").ok());
}

// A checkpoint line exactly as mamori wrote it before checkpoints carried the audit head
// (built by hand, not by LogEntry): it still parses, re-formats byte for byte and verifies.
TEST_F(EvidenceTest, OldFormatCheckpointLineStillVerifies) {
  const std::string head(64, 'a');
  const std::string text =
      "mamori-checkpoint v1 id=3 time=5 key=" + key_->key_id() + " seq=7 head=" + head;
  const std::string sig = key_->Sign(text);
  const std::string line = text + " sig=" + ToHex(sig);
  auto p = ParseLogLine(line);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->audit.has_value());
  EXPECT_EQ(p->Line(), line);
  EXPECT_TRUE(VerifyEntry(*p, key_->public_key()));
}

TEST_F(EvidenceTest, CheckpointWithAuditHeadRoundTrips) {
  LogEntry e;
  e.id = 3;
  e.time_ns = 5;
  e.seq = 7;
  ExtraAnchor a;
  a.seq = 42;
  a.head[0] = 0xab;
  a.head[31] = 0x01;
  e.audit = a;
  SignEntry(*key_, &e);
  const std::string line = e.Line();
  EXPECT_EQ(line.rfind("mamori-checkpoint v2 id=3 ", 0), 0u) << line;
  EXPECT_NE(line.find(" audit_seq=42 audit_head=ab"), std::string::npos) << line;
  auto p = ParseLogLine(line);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->audit.has_value());
  EXPECT_EQ(*p->audit, a);
  EXPECT_TRUE(VerifyEntry(*p, key_->public_key()));
  // The audit head is signed: changing it breaks the signature.
  std::string changed = line;
  changed.replace(changed.find("audit_seq=42"), 12, "audit_seq=41");
  auto q = ParseLogLine(changed);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(VerifyEntry(*q, key_->public_key()));
  // Dropping the audit fields (back to v1) breaks it too; mixed forms do not parse.
  LogEntry v1 = *p;
  v1.audit.reset();
  v1.signature = p->signature;
  EXPECT_FALSE(VerifyEntry(v1, key_->public_key()));
  std::string as_v1 = line;
  as_v1.replace(as_v1.find(" v2 "), 4, " v1 ");
  EXPECT_FALSE(ParseLogLine(as_v1).ok());
  std::string short_v2 = v1.Line();
  short_v2.replace(short_v2.find(" v1 "), 4, " v2 ");
  EXPECT_FALSE(ParseLogLine(short_v2).ok());
  std::string bad = line;
  bad.replace(bad.find("audit_seq=42"), 12, "audit_seq=042");
  EXPECT_FALSE(ParseLogLine(bad).ok());
  EXPECT_FALSE(ParseLogLine("mamori-checkpoint v3" + line.substr(20)).ok());
}

// Old (v1) and new (v2) checkpoints in one store and checkpoint file verify together; a moved
// audit head alone makes a new checkpoint, an unchanged one none (also after reopening).
TEST_F(EvidenceTest, StoreMixesOldAndAuditAnchoredCheckpoints) {
  Build();  // v1 checkpoints at 10 and 20
  ExtraAnchor a;
  a.seq = 3;
  a.head.fill(0x33);
  {
    auto store = Open();
    auto cp = store->AddCheckpoint(*key_, kT0, a);
    ASSERT_TRUE(cp.ok() && cp->has_value());
    EXPECT_EQ((*cp)->seq, 20u);  // the chain head did not move; the audit head did
    ASSERT_TRUE((*cp)->audit.has_value());
    std::ofstream(CpFile(), std::ios::app) << (*cp)->Line() << "\n";
    auto again = store->AddCheckpoint(*key_, kT0, a);
    ASSERT_TRUE(again.ok());
    EXPECT_FALSE(again->has_value());
  }
  {
    auto store = Open();
    auto same = store->AddCheckpoint(*key_, kT0, a);
    ASSERT_TRUE(same.ok());
    EXPECT_FALSE(same->has_value()) << "the last checkpoint's audit head is reloaded";
    AppendN(*store, 2);
    a.seq = 4;
    auto cp = store->AddCheckpoint(*key_, kT0, a);
    ASSERT_TRUE(cp.ok() && cp->has_value());
    EXPECT_EQ((*cp)->seq, 22u);
    EXPECT_EQ((*cp)->audit->seq, 4u);
    std::ofstream(CpFile(), std::ios::app) << (*cp)->Line() << "\n";
  }
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 22u);
  EXPECT_EQ(r.checkpoints, 4u);
  EXPECT_EQ(r.file_checkpoints, 4u);
  EXPECT_EQ(r.unanchored, 0u);
  auto lines = ReadCheckpointFile(CpFile(), nullptr);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_FALSE((*lines)[1].audit.has_value());
  EXPECT_EQ((*lines)[3].audit->seq, 4u);
}

TEST_F(EvidenceTest, ServiceSignsTheAuditHeadFromItsProvider) {
  FakeClock clock(kT0 + 100 * kSecond);
  prometheus::Registry registry;
  auto store = Open();
  std::uint64_t audit_seq = 0;
  bool fail = false;
  EvidenceService::Options o;
  o.checkpoint_interval_ms = 3'600'000;  // driven by hand below
  o.checkpoint_file = CpFile();
  o.audit_anchor = [&]() -> Result<ExtraAnchor> {
    if (fail) return Status::IOError("disk gone");
    ExtraAnchor a;
    a.seq = audit_seq;
    a.head.fill(static_cast<std::uint8_t>(audit_seq));
    return a;
  };
  {
    EvidenceService svc(*store, *key_, o, clock, registry);
    ASSERT_TRUE(svc.Start().ok());
    ASSERT_TRUE(svc.CheckpointNow().ok());  // empty chain: nothing
    AppendN(*store, 5);
    audit_seq = 2;
    ASSERT_TRUE(svc.CheckpointNow().ok());  // v2, audit 2
    ASSERT_TRUE(svc.CheckpointNow().ok());  // nothing moved: no line
    audit_seq = 3;
    ASSERT_TRUE(svc.CheckpointNow().ok());  // only the audit head moved: v2, audit 3
    AppendN(*store, 1);
    fail = true;
    ASSERT_TRUE(svc.CheckpointNow().ok());  // provider failed: v1, counted
    fail = false;
    svc.Stop();  // final checkpoint: audit 3 again (it differs from the last one's none)
  }
  auto lines = ReadCheckpointFile(CpFile(), nullptr);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_EQ((*lines)[0].audit->seq, 2u);
  EXPECT_EQ((*lines)[1].seq, 5u);
  EXPECT_EQ((*lines)[1].audit->seq, 3u);
  EXPECT_FALSE((*lines)[2].audit.has_value());
  EXPECT_EQ((*lines)[3].seq, 6u);
  EXPECT_EQ((*lines)[3].audit->seq, 3u);
  store.reset();
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.checkpoints, 4u);
}

// --- Bundles -------------------------------------------------------------------------------

class BundleTest : public EvidenceTest {
 protected:
  std::string Export(const ExportSelection& sel, const std::string& name = "bundle") {
    auto store = Open(/*read_only=*/true);
    const std::string out = dir_.path() + "/" + name;
    auto s = ExportBundle(*store, sel, out);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return out;
  }
};

TEST_F(BundleTest, ExportVerifiesAndEveryByteMatters) {
  Build();
  ExportSelection sel;
  sel.seqs = {3, 12, 13};
  const std::string b = Export(sel);
  BundleReport ok = VerifyBundle(b, key_->public_key().pem());
  ASSERT_TRUE(ok.ok()) << ok.what;
  EXPECT_EQ(ok.records, 3u);
  EXPECT_EQ(ok.checkpoints, 2u);  // 3 is covered by the checkpoint at 10, 12 and 13 by 20
  EXPECT_EQ(ok.key_id, key_->key_id());

  std::size_t positions = 0;
  for (const auto& entry : fs::directory_iterator(b)) {
    const std::string path = entry.path().string();
    const std::string original = ReadAll(path);
    for (std::size_t i = 0; i < original.size(); ++i) {
      std::string changed = original;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      WriteAll(path, changed);
      BundleReport r = VerifyBundle(b, "");
      ASSERT_FALSE(r.ok()) << entry.path().filename() << " byte " << i;
      ++positions;
    }
    WriteAll(path, original);
  }
  EXPECT_GT(positions, 2000u);
  ASSERT_TRUE(VerifyBundle(b, "").ok());
  WriteAll(b + "/extra.txt", "x");
  EXPECT_FALSE(VerifyBundle(b, "").ok());
  fs::remove(b + "/extra.txt");
  fs::remove(b + "/public_key.pem");
  EXPECT_FALSE(VerifyBundle(b, "").ok());
}

// A bundle whose manifest was recomputed after tampering is still caught by the proofs.
TEST_F(BundleTest, RecomputedManifestDoesNotHideAChangedRecord) {
  Build();
  ExportSelection sel;
  sel.seqs = {5};
  const std::string b = Export(sel);
  std::string rec = ReadAll(b + "/records.jsonl");
  const std::size_t at = rec.find("\"raw_base64\":\"") + 15;
  rec[at] = rec[at] == 'A' ? 'B' : 'A';
  WriteAll(b + "/records.jsonl", rec);
  std::string manifest;
  for (const char* f : {"checkpoints.log", "proofs.jsonl", "public_key.pem", "records.jsonl"}) {
    manifest += ToHex(Sha256::Of(ReadAll(b + "/" + f))) + "  " + f + "\n";
  }
  WriteAll(b + "/MANIFEST", manifest);
  BundleReport r = VerifyBundle(b, "");
  EXPECT_EQ(r.failure, VerifyFailure::kChain) << r.what;
  EXPECT_EQ(r.failed_seq, 5u);
}

TEST_F(BundleTest, ExportByQueryAndUncoveredRecords) {
  Build();
  {
    auto store = Open();
    AppendN(*store, 2);  // 21, 22: not checkpointed yet
  }
  ExportSelection sel;
  Query q;
  q.pattern = "msg-1[0-9]$";
  sel.query = q;
  const std::string b = Export(sel);
  BundleReport r = VerifyBundle(b, key_->public_key().pem());
  ASSERT_TRUE(r.ok()) << r.what;
  EXPECT_EQ(r.records, 10u);

  auto store = Open(/*read_only=*/true);
  ExportSelection late;
  late.seqs = {21};
  auto s = ExportBundle(*store, late, dir_.path() + "/late");
  EXPECT_EQ(s.status().code(), Status::Code::kUnavailable);
  auto seqs = ParseSeqList("1,5,9-12");
  ASSERT_TRUE(seqs.ok());
  EXPECT_EQ(*seqs, (std::vector<std::uint64_t>{1, 5, 9, 10, 11, 12}));
  EXPECT_FALSE(ParseSeqList("1,,2").ok());
  EXPECT_FALSE(ParseSeqList("5-3").ok());
}

// --- Retention and disposal -----------------------------------------------------------------

bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (ReadAll(e.path().string()).find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(EvidenceTest, DisposalPurgesExpiredClassAndKeepsTheChainVerifiable) {
  const std::int64_t now = kT0 + 1000 * kSecond;
  {
    auto store = Open();
    ASSERT_TRUE(store->RegisterKey(key_->public_key()).ok());
    // Interleaved classes: odd seqs class I with a secret marker, even seqs class III.
    std::vector<Record> batch;
    for (int i = 1; i <= 40; ++i) {
      Record r = MakeRecord(kT0 + i * kSecond, "hr-01",
                            i % 2 ? "SECRET-MYNUMBER-" + std::to_string(1000 + i) : "routine");
      r.event.info_class = i % 2 ? InfoClass::kI : InfoClass::kIII;
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store->Append(batch).ok());
    Checkpoint(*store);
    ASSERT_TRUE(store->Flush().ok());
  }
  ASSERT_TRUE(AnyFileContains(DbDir(), "SECRET-MYNUMBER-")) << "positive control";
  {
    auto store = Open();
    RetentionPolicy p;
    p.max_age_ns = {500 * kSecond, 0, 0};  // class I: 500 s; all are ~1000 s old
    auto d = store->Dispose(p, *key_, now);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->size(), 1u);
    const LogEntry& e = d->front();
    EXPECT_EQ(e.count, 20u);
    EXPECT_EQ(e.first, 1u);
    EXPECT_EQ(e.last, 39u);
    EXPECT_EQ(e.count_by_class[0], 20u);
    EXPECT_TRUE(VerifyEntry(e, key_->public_key()));
    std::ofstream(CpFile(), std::ios::app) << e.Line() << "\n";
    auto again = store->Dispose(p, *key_, now);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
    EXPECT_FALSE(store->Get(3)->has_value());
    EXPECT_TRUE(store->Get(4)->has_value());
    Query q;
    q.host = "hr-01";
    auto page = store->Search(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->records.size(), 20u);
    AppendN(*store, 1);  // the chain goes on
    Checkpoint(*store);
  }
  EXPECT_FALSE(AnyFileContains(dir_.path(), "SECRET-MYNUMBER-"));
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 21u);
  EXPECT_EQ(r.disposed, 20u);
  ASSERT_EQ(r.disposals.size(), 1u);
  EXPECT_EQ(r.disposals[0].count, 20u);
  EXPECT_EQ(r.file_checkpoints, 2u);

  // A record removed and dressed up as disposed of, without a signed disposal record.
  {
    RawDb db(DbDir());
    Record rec;
    internal::ChainExt ext;
    ASSERT_TRUE(internal::DecodeRecord(db.Rec(10), &rec, &ext).ok());
    ChainHasher h;
    std::string tomb(AsBytes(h.RecordDigest(rec.raw, rec.event.info_class, ext.salt)));
    tomb += internal::RecordKey(99) + std::string(AsBytes(ext.hash));
    db.DeleteRec(10);
    db.Put("disposed", internal::RecordKey(10), tomb);
  }
  ExpectFailure(Verify(), VerifyFailure::kCheckpoint, 10);
}

// Records are stored in groups (FORMAT.md, "Record groups"): disposing of records in the middle
// of a group rewrites the group under its key, which is below the first disposed seq; the purge
// must compact from that key, or the old version of the group, with the disposed bytes, would
// stay on disk. The rest of the group reads, and verifies, as before.
TEST_F(EvidenceTest, DisposalInsideARecordGroupPurgesTheOldGroup) {
  const std::int64_t now = kT0 + 1000 * kSecond;
  {
    auto store = Open();
    ASSERT_TRUE(store->RegisterKey(key_->public_key()).ok());
    std::vector<Record> batch;  // one group: seqs 1..40; class I (with a marker) at 21..30
    for (int i = 1; i <= 40; ++i) {
      const bool secret = i >= 21 && i <= 30;
      Record r = MakeRecord(kT0 + i * kSecond, "hr-02",
                            secret ? "SECRET-GROUPED-" + std::to_string(i) : "routine");
      r.event.info_class = secret ? InfoClass::kI : InfoClass::kIII;
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store->Append(batch).ok());
    Checkpoint(*store);
    ASSERT_TRUE(store->Flush().ok());
  }
  {
    RawDb db(DbDir());
    ASSERT_EQ(db.HolderKey(25), 1u) << "the records must share one group for this test";
  }
  ASSERT_TRUE(AnyFileContains(DbDir(), "SECRET-GROUPED-")) << "positive control";
  {
    auto store = Open();
    RetentionPolicy p;
    p.max_age_ns = {500 * kSecond, 0, 0};
    auto d = store->Dispose(p, *key_, now);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ(d->front().first, 21u);
    EXPECT_EQ(d->front().last, 30u);
    EXPECT_EQ(d->front().count, 10u);
    std::ofstream(CpFile(), std::ios::app) << d->front().Line() << "\n";
    for (std::uint64_t seq = 1; seq <= 40; ++seq) {
      auto r = store->Get(seq);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->has_value(), seq < 21 || seq > 30) << seq;
    }
  }
  EXPECT_FALSE(AnyFileContains(dir_.path(), "SECRET-GROUPED-"));
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 30u);
  EXPECT_EQ(r.disposed, 10u);
}

// Records of a batch that share an event time share one index entry (FORMAT.md): disposing of
// some of them rewrites the entry (also when its first seq goes), and searches see exactly the
// rest, in order, on both indexes, page by page.
TEST_F(EvidenceTest, DisposalOfPartOfASharedIndexEntry) {
  const std::int64_t now = kT0 + 1000 * kSecond;
  auto store = Open();
  for (int b = 0; b < 2; ++b) {  // two batches with the same times
    std::vector<Record> batch;
    for (int i = 0; i < 30; ++i) {
      Record r = MakeRecord(kT0 + (i % 2) * kSecond, i % 3 ? "web-01" : "db-01", "m");
      r.event.info_class = i % 4 == 0 ? InfoClass::kI : InfoClass::kIII;
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store->Append(batch).ok());
  }
  RetentionPolicy p;
  p.max_age_ns = {500 * kSecond, 0, 0};
  p.max_records_per_disposal = 7;  // several disposal batches, each rewriting entries again
  auto d = store->Dispose(p, *key_, now);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::size_t disposed = 0;
  for (const auto& e : *d) disposed += e.count;
  EXPECT_EQ(disposed, 16u);  // i = 0, 4, ..., 28 in each batch
  for (const std::string host : {"", "web-01", "db-01"}) {
    for (std::size_t limit : {1u, 4u, 100u}) {
      std::vector<std::pair<std::int64_t, std::uint64_t>> want;
      for (std::uint64_t seq = 1; seq <= 60; ++seq) {
        const int i = static_cast<int>((seq - 1) % 30);
        if (i % 4 == 0 || (!host.empty() && host != (i % 3 ? "web-01" : "db-01"))) continue;
        want.push_back({kT0 + (i % 2) * kSecond, seq});
      }
      std::sort(want.rbegin(), want.rend());  // newest first: (time, seq) descending
      Query q;
      q.host = host;
      q.limit = limit;
      std::vector<std::pair<std::int64_t, std::uint64_t>> got;
      for (int pages = 0; pages < 1000; ++pages) {
        auto page = store->Search(q);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        for (const auto& r : page->records) got.push_back({r.event.event_time_ns, r.seq});
        if (page->next_cursor.empty()) break;
        q.cursor = page->next_cursor;
      }
      EXPECT_EQ(got, want) << "host '" << host << "', limit " << limit;
    }
  }
}

// A damaged index entry value (a zero delta, a truncated varint, a seq overflow) makes the
// searches that reach it fail with Corruption, never a crash or a wrong page; disposal leaves
// the entry alone and still disposes of the records.
TEST_F(EvidenceTest, DamagedIndexEntryIsCorruption) {
  for (const std::string& bad :
       {std::string("\x00", 1), std::string("\x80"), std::string("\x01\x80\x80"),
        std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")}) {
    TempDir dir;
    StoreOptions o;
    o.dir = dir.path() + "/db";
    {
      auto store = std::move(EvidenceStore::Open(o)).value();
      std::vector<Record> batch;
      for (int i = 0; i < 5; ++i) {
        Record r = MakeRecord(kT0, "web-01", "m");
        r.event.info_class = InfoClass::kI;
        batch.push_back(std::move(r));
      }
      ASSERT_TRUE(store->Append(batch).ok());
    }
    {
      RawDb db(o.dir);
      std::string k;
      internal::PutTimeSeq(&k, kT0, 1);
      EXPECT_EQ(db.Get("time_idx", k), std::string("\x01\x01\x01\x01", 4));  // seqs 1..5
      db.Put("time_idx", k, bad);
    }
    auto store = std::move(EvidenceStore::Open(o)).value();
    auto page = store->Search(Query{});
    ASSERT_FALSE(page.ok());
    EXPECT_EQ(page.status().code(), Status::Code::kCorruption) << page.status().ToString();
    EXPECT_NE(page.status().message().find("index entry has a bad value"), std::string::npos);
    Query by_host;
    by_host.host = "web-01";
    auto host_page = store->Search(by_host);  // the host index is intact
    ASSERT_TRUE(host_page.ok()) << host_page.status().ToString();
    EXPECT_EQ(host_page->records.size(), 5u);
    RetentionPolicy p;
    p.max_age_ns = {1, 0, 0};
    auto d = store->Dispose(p, *key_, kT0 + 1000 * kSecond);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(d->size(), 1u);
    EXPECT_EQ(d->front().count, 5u);
    host_page = store->Search(by_host);
    ASSERT_TRUE(host_page.ok()) << host_page.status().ToString();
    EXPECT_TRUE(host_page->records.empty());
  }
}

TEST_F(EvidenceTest, DeletedTombstoneIsDetected) {
  {
    auto store = Open();
    ASSERT_TRUE(store->RegisterKey(key_->public_key()).ok());
    AppendN(*store, 6, InfoClass::kII);
    RetentionPolicy p;
    p.max_age_ns = {0, 1, 0};
    p.max_records_per_disposal = 4;  // two disposals: 1-4 and 5-6
    auto d = store->Dispose(p, *key_, kT0 + 100 * kSecond);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d->size(), 2u);
    EXPECT_EQ((*d)[1].first, 5u);
    EXPECT_EQ(store->next_seq(), 7u);
  }
  {
    auto store = Open();
    EXPECT_EQ(store->next_seq(), 7u) << "disposed seqs are never reused";
  }
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.disposed, 6u);
  {
    RawDb db(DbDir());
    db.Delete("disposed", internal::RecordKey(3));
  }
  ExpectFailure(Verify(), VerifyFailure::kChain, 3);
}

// --- The maintenance thread -----------------------------------------------------------------

TEST_F(EvidenceTest, ServicePublishesCheckpointsAndDisposals) {
  FakeClock clock(kT0 + 100 * kSecond);
  prometheus::Registry registry;
  auto store = Open();
  EvidenceService::Options o;
  o.checkpoint_interval_ms = 3'600'000;  // driven by hand below
  o.checkpoint_file = CpFile();
  o.retention.max_age_ns = {0, 0, 50 * kSecond};
  o.retention_check_interval_ms = 3'600'000;
  {
    EvidenceService svc(*store, *key_, o, clock, registry);
    ASSERT_TRUE(svc.Start().ok());
    AppendN(*store, 5);
    ASSERT_TRUE(svc.CheckpointNow().ok());
    ASSERT_TRUE(svc.CheckpointNow().ok());  // nothing new: no line
    ASSERT_TRUE(svc.DisposeNow().ok());     // all 5 are ~95 s old
    AppendN(*store, 2, InfoClass::kIII, kT0 + 90 * kSecond);
    svc.Stop();  // final checkpoint
  }
  auto lines = ReadCheckpointFile(CpFile(), nullptr);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].kind, LogEntry::Kind::kCheckpoint);
  EXPECT_EQ((*lines)[0].seq, 5u);
  EXPECT_EQ((*lines)[1].kind, LogEntry::Kind::kDisposal);
  EXPECT_EQ((*lines)[1].count, 5u);
  EXPECT_EQ((*lines)[2].seq, 7u);
  store.reset();
  VerifyReport r = Verify();
  ASSERT_TRUE(r.ok()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.disposed, 5u);
}

// The value of a label-less gauge, or nullopt when the registry has no such series.
std::optional<double> GaugeValue(const prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      if (m.label.empty()) return m.gauge.value;
    }
  }
  return std::nullopt;
}

TEST_F(EvidenceTest, ServiceGauges) {
  FakeClock clock(kT0 + 100 * kSecond);
  prometheus::Registry registry;
  auto store = Open();
  EvidenceService::Options o;
  o.checkpoint_interval_ms = 3'600'000;  // driven by hand below
  o.checkpoint_file = CpFile();
  o.retention.max_age_ns = {0, 0, 50 * kSecond};
  o.retention_check_interval_ms = 3'600'000;
  EvidenceService svc(*store, *key_, o, clock, registry);
  ASSERT_TRUE(svc.Start().ok());
  auto g = [&](const char* name) { return GaugeValue(registry, name); };
  // Nothing yet: no checkpoint check, retention or verification has run.
  EXPECT_EQ(g("mamori_evidence_chain_head_sequence"), 0.0);
  EXPECT_EQ(g("mamori_evidence_checkpoint_last_timestamp_seconds"), 0.0);
  EXPECT_EQ(g("mamori_retention_last_run_timestamp_seconds"), 0.0);
  EXPECT_EQ(g("mamori_evidence_verify_last_timestamp_seconds"), 0.0);
  EXPECT_EQ(g("mamori_evidence_verify_last_success"), std::nullopt);  // no series yet

  AppendN(*store, 100);
  ASSERT_TRUE(store->Flush().ok());  // some SST files
  AppendN(*store, 5);                // and some WAL
  svc.UpdateGauges();
  EXPECT_EQ(g("mamori_evidence_chain_head_sequence"), 105.0);
  EXPECT_EQ(g("mamori_evidence_chain_head_sequence"), static_cast<double>(store->chain_head().seq));
  auto usage = store->disk_usage();
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_GT(usage->sst_bytes, 0u);
  EXPECT_GT(usage->wal_bytes, 0u);
  EXPECT_GT(*g("mamori_storage_size_bytes"), 0.0);
  EXPECT_EQ(g("mamori_storage_size_bytes"),
            static_cast<double>(usage->sst_bytes + usage->wal_bytes));
  EXPECT_GE(*g("mamori_storage_compaction_pending_bytes"), 0.0);
  // Memory: the 5 records in the memtable, the flushed file's blocks in the cache (the index
  // block is read into the cache when the file is opened), and little outside the cache.
  auto mem = [&](const char* component) -> std::optional<double> {
    for (const auto& family : registry.Collect()) {
      if (family.name != "mamori_storage_memory_bytes") continue;
      for (const auto& m : family.metric) {
        if (m.label.size() == 1 && m.label[0].value == component) return m.gauge.value;
      }
    }
    return std::nullopt;
  };
  EXPECT_EQ(mem("memtables"), static_cast<double>(usage->memtable_bytes));
  EXPECT_GT(usage->memtable_bytes, 0u);
  EXPECT_EQ(mem("block_cache"), static_cast<double>(usage->block_cache_bytes));
  EXPECT_EQ(mem("table_readers"), static_cast<double>(usage->table_readers_bytes));
  ASSERT_TRUE(store->Get(1).ok());
  auto after_read = store->disk_usage();
  ASSERT_TRUE(after_read.ok());
  EXPECT_GT(after_read->block_cache_bytes, 0u);  // the blocks the read needed

  clock.Set(kT0 + 200 * kSecond);
  ASSERT_TRUE(svc.CheckpointNow().ok());
  EXPECT_EQ(g("mamori_evidence_checkpoint_sequence"), 105.0);
  EXPECT_NEAR(g("mamori_evidence_checkpoint_last_timestamp_seconds").value_or(-1),
              200.0 + kT0 / 1e9, 1e-3);
  // The head did not move: no new checkpoint, but the head is confirmed covered (not stale).
  clock.Set(kT0 + 300 * kSecond);
  ASSERT_TRUE(svc.CheckpointNow().ok());
  EXPECT_NEAR(g("mamori_evidence_checkpoint_last_timestamp_seconds").value_or(-1),
              300.0 + kT0 / 1e9, 1e-3);

  ASSERT_TRUE(svc.DisposeNow().ok());
  EXPECT_NEAR(g("mamori_retention_last_run_timestamp_seconds").value_or(-1), 300.0 + kT0 / 1e9,
              1e-3);

  svc.RecordVerify(true, kT0 + 400 * kSecond);
  EXPECT_EQ(g("mamori_evidence_verify_last_success"), 1.0);
  EXPECT_NEAR(g("mamori_evidence_verify_last_timestamp_seconds").value_or(-1), 400.0 + kT0 / 1e9,
              1e-3);
  svc.RecordVerify(false, kT0 + 500 * kSecond);
  EXPECT_EQ(g("mamori_evidence_verify_last_success"), 0.0);
  EXPECT_NEAR(g("mamori_evidence_verify_last_timestamp_seconds").value_or(-1), 500.0 + kT0 / 1e9,
              1e-3);
  svc.Stop();
}

}  // namespace
}  // namespace mamori::storage
