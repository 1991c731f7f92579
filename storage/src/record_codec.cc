#include "record_codec.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>

namespace mamori::storage::internal {
namespace {

void PutVarint(std::string* out, std::uint64_t v) {
  if (v < 0x80) {  // most varints of a record (lengths, flags, codes) fit in one byte
    out->push_back(static_cast<char>(v));
    return;
  }
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// Bounds-checked reader: every Get* returns false instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool done() const { return p_ == end_; }

  bool GetByte(std::uint8_t* v) {
    if (p_ == end_) return false;
    *v = static_cast<unsigned char>(*p_++);
    return true;
  }
  bool GetVarint(std::uint64_t* v) {
    std::uint64_t r = 0;
    for (int shift = 0; shift <= 63 && p_ != end_; shift += 7) {
      const auto b = static_cast<unsigned char>(*p_++);
      if (shift == 63 && b > 1) return false;  // more than 64 bits
      r |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool GetZigZag(std::int64_t* v) {
    std::uint64_t u;
    if (!GetVarint(&u)) return false;
    *v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool GetFixed64(std::uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::uint64_t r = 0;
    for (int i = 7; i >= 0; --i) r = (r << 8) | static_cast<unsigned char>(p_[i]);
    p_ += 8;
    *v = r;
    return true;
  }
  bool GetView(std::string_view* s) {
    std::uint64_t n;
    if (!GetVarint(&n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool GetBytes(std::uint64_t n, std::string* s) {
    if (n > static_cast<std::uint64_t>(end_ - p_)) return false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  bool GetString(std::string* s) {
    std::string_view v;
    if (!GetView(&v)) return false;
    s->assign(v);
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

bool FitsInt(std::int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace

namespace {

std::size_t VarintLength(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes an encoding through a raw pointer into room reserved up front: a record has ~30
// varints and strings, and appending them one by one to a std::string (a capacity check and a
// terminator per byte) was ~750 instructions per record on the writer thread.
class Sink {
 public:
  // Reserves `bound` bytes after out's current end (REQUIRES: the encoding fits in them).
  Sink(std::string* out, std::size_t bound) : out_(out), end_(out->size() + bound) {
    out->resize(end_);
    p_ = out->data() + (end_ - bound);
  }
  // Trims `out` to what was written.
  ~Sink() {
    assert(p_ <= out_->data() + end_);
    out_->resize(static_cast<std::size_t>(p_ - out_->data()));
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  void Byte(std::uint8_t b) { *p_++ = static_cast<char>(b); }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void ZigZag(std::int64_t v) {
    Varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void Fixed64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<char>(v >> (8 * i));  // little-endian
  }
  void Bytes(std::string_view s) {
    if (!s.empty()) std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void String(std::string_view s) {
    Varint(s.size());
    Bytes(s);
  }
  // Version 2 string: a varint v. Low bit 1: the string is the (v >> 1)-byte offset into the
  // raw bytes followed by a varint length; low bit 0: v >> 1 bytes follow. A reference is
  // written only when it is shorter. `from` is where the previous reference ended: strings mostly
  // appear in the raw bytes in the order they are stored (host, app, procid; fields), so look
  // there first.
  void RawOrString(std::string_view raw, std::string_view s, std::size_t* from) {
    const std::size_t inline_len = VarintLength(std::uint64_t{s.size()} << 1) + s.size();
    if (s.size() >= 2) {
      std::size_t pos = raw.find(s, std::min(*from, raw.size()));
      if (pos == std::string_view::npos && *from > 0) pos = raw.find(s);
      if (pos != std::string_view::npos) {
        const std::uint64_t v = (std::uint64_t{pos} << 1) | 1;
        if (VarintLength(v) + VarintLength(s.size()) < inline_len) {
          Varint(v);
          Varint(s.size());
          *from = pos + s.size();
          return;
        }
      }
    }
    Varint(std::uint64_t{s.size()} << 1);
    Bytes(s);
  }
  // Version 2 format: a code from kFormatCodes, or 0 and the name.
  void Format(std::string_view format) {
    for (std::size_t i = 0; i < std::size(kFormatCodes); ++i) {
      if (kFormatCodes[i] == format) {
        Varint(i + 1);
        return;
      }
    }
    Varint(0);
    String(format);
  }

 private:
  std::string* out_;
  std::size_t end_;
  char* p_;
};

// Room for a string and its length (a varint of at most 10 bytes), or for a reference (two).
constexpr std::size_t kStringRoom = 20;

void Encode(const Record& r, std::string* out, std::uint8_t version) {
  const RawRecord& raw = r.raw;
  const Event& e = r.event;
  std::size_t bound = 1 + 8 + 1 + 10 + 10 + 8 + 1 + 10 + 10 + 1 + 10 + 10 +  // fixed fields
                      3 * kStringRoom + raw.listener.size() + raw.peer.size() + raw.bytes.size() +
                      5 * kStringRoom + e.host.size() + e.app.size() + e.procid.size() +
                      e.msgid.size() + e.format.size() + kStringRoom + e.message.size();
  for (const Field& f : e.fields) bound += 2 * kStringRoom + f.key.size() + f.value.size();
  Sink out_sink(out, bound);
  Sink& o = out_sink;
  o.Byte(version);
  // RawRecord
  o.Fixed64(static_cast<std::uint64_t>(raw.received_ns));
  o.Byte(static_cast<std::uint8_t>(raw.transport));
  o.Varint(raw.flags);
  o.Varint(raw.original_size);
  o.String(raw.listener);
  o.String(raw.peer);
  o.String(raw.bytes);
  // Event
  o.Fixed64(static_cast<std::uint64_t>(e.event_time_ns));
  o.Byte(e.time_flags);
  o.ZigZag(e.facility);
  o.ZigZag(e.severity);
  o.Byte(static_cast<std::uint8_t>(e.info_class));
  const std::string_view rb = raw.bytes;
  std::size_t from = 0;
  if (version == kRecordFormatV1) {
    o.String(e.host);
    o.String(e.app);
    o.String(e.procid);
    o.String(e.msgid);
    o.String(e.format);
  } else {
    o.RawOrString(rb, e.host, &from);
    o.RawOrString(rb, e.app, &from);
    o.RawOrString(rb, e.procid, &from);
    o.RawOrString(rb, e.msgid, &from);
    o.Format(e.format);
  }
  // The message is usually the tail of the raw bytes: then only its length is stored.
  if (rb.size() >= e.message.size() && rb.substr(rb.size() - e.message.size()) == e.message) {
    o.Varint((std::uint64_t{e.message.size()} << 1) | 1);
  } else {
    o.Varint(std::uint64_t{e.message.size()} << 1);
    o.Bytes(e.message);
  }
  o.Varint(e.fields.size());
  for (const Field& f : e.fields) {
    if (version == kRecordFormatV1) {
      o.String(f.key);
      o.String(f.value);
    } else {
      o.RawOrString(rb, f.key, &from);
      o.RawOrString(rb, f.value, &from);
    }
  }
  // Extensions (tag, length, bytes)* follow: AppendChainExt.
}

}  // namespace

void EncodeRecord(const Record& r, std::string* out) { Encode(r, out, kRecordFormatV2); }
void EncodeRecordV1(const Record& r, std::string* out) { Encode(r, out, kRecordFormatV1); }

void AppendChainExt(std::string_view salt, const Hash& hash, std::string* out) {
  PutVarint(out, kExtChainSalt);
  PutString(out, salt);
  PutVarint(out, kExtChainHash);
  PutString(out, AsBytes(hash));
}

Status DecodeRecord(std::string_view value, Record* r, ChainExt* ext) {
  Reader in(value);
  auto bad = [](std::string_view what) {
    return Status::Corruption(std::string("record value: ") + std::string(what));
  };
  std::uint8_t version;
  if (!in.GetByte(&version)) return bad("empty");
  if (version != kRecordFormatV1 && version != kRecordFormatV2) {
    return bad("unknown format version " + std::to_string(version));
  }
  const bool v1 = version == kRecordFormatV1;
  RawRecord& raw = r->raw;
  Event& e = r->event;
  std::uint64_t u;
  std::uint8_t b;
  if (!in.GetFixed64(&u)) return bad("truncated received_ns");
  raw.received_ns = static_cast<std::int64_t>(u);
  if (!in.GetByte(&b) || b > static_cast<std::uint8_t>(Transport::kFile)) {
    return bad("bad transport");
  }
  raw.transport = static_cast<Transport>(b);
  if (!in.GetVarint(&u) || u > UINT32_MAX) return bad("bad raw flags");
  raw.flags = static_cast<std::uint32_t>(u);
  if (!in.GetVarint(&raw.original_size)) return bad("bad original_size");
  if (!in.GetString(&raw.listener) || !in.GetString(&raw.peer) || !in.GetString(&raw.bytes)) {
    return bad("truncated raw record");
  }
  if (!in.GetFixed64(&u)) return bad("truncated event_time_ns");
  e.event_time_ns = static_cast<std::int64_t>(u);
  if (!in.GetByte(&e.time_flags)) return bad("truncated time_flags");
  std::int64_t facility, severity;
  if (!in.GetZigZag(&facility) || !FitsInt(facility)) return bad("bad facility");
  if (!in.GetZigZag(&severity) || !FitsInt(severity)) return bad("bad severity");
  e.facility = static_cast<int>(facility);
  e.severity = static_cast<int>(severity);
  if (!in.GetByte(&b) || b < 1 || b > 3) return bad("bad info_class");
  e.info_class = static_cast<InfoClass>(b);
  const std::string_view rb = raw.bytes;
  // A version 2 string: inline, or (offset, length) into the raw bytes (FORMAT.md).
  auto get = [&](std::string* s) {
    if (v1) return in.GetString(s);
    std::uint64_t v;
    if (!in.GetVarint(&v)) return false;
    if ((v & 1) == 0) return in.GetBytes(v >> 1, s);
    std::uint64_t n;
    const std::uint64_t off = v >> 1;
    if (!in.GetVarint(&n) || off > rb.size() || n > rb.size() - off) return false;
    s->assign(rb.data() + off, n);
    return true;
  };
  if (!get(&e.host) || !get(&e.app) || !get(&e.procid) || !get(&e.msgid)) {
    return bad("truncated event or bad reference");
  }
  if (v1) {
    if (!in.GetString(&e.format)) return bad("truncated event");
  } else {
    std::uint64_t code;
    if (!in.GetVarint(&code)) return bad("truncated event");
    if (code == 0) {
      if (!in.GetString(&e.format)) return bad("truncated event");
    } else if (code <= std::size(kFormatCodes)) {
      e.format.assign(kFormatCodes[code - 1]);
    } else {
      return bad("unknown format code " + std::to_string(code));
    }
  }
  std::uint64_t message_len;
  if (!in.GetVarint(&message_len)) return bad("truncated message");
  if (message_len & 1) {  // the last message_len >> 1 bytes of the raw bytes
    message_len >>= 1;
    if (message_len > raw.bytes.size()) return bad("message reference out of range");
    e.message.assign(raw.bytes, raw.bytes.size() - message_len, message_len);
  } else if (!in.GetBytes(message_len >> 1, &e.message)) {
    return bad("truncated message");
  }
  std::uint64_t nfields;
  // Each field takes at least two bytes, which bounds the count before we allocate.
  if (!in.GetVarint(&nfields) || nfields > value.size() / 2) return bad("bad field count");
  e.fields.resize(nfields);
  for (Field& f : e.fields) {
    if (!get(&f.key) || !get(&f.value)) return bad("truncated field or bad reference");
  }
  if (ext != nullptr) *ext = ChainExt();
  while (!in.done()) {  // extensions: unknown tags are skipped
    std::uint64_t tag;
    std::string_view data;
    if (!in.GetVarint(&tag) || !in.GetView(&data)) return bad("truncated extension");
    if (tag == kExtChainSalt) {
      if (data.size() != kSaltBytes) return bad("bad chain salt");
      if (ext != nullptr) ext->salt.assign(data);
    } else if (tag == kExtChainHash) {
      if (data.size() != 32) return bad("bad chain hash");
      if (ext != nullptr) {
        ext->has_hash = true;
        std::copy(data.begin(), data.end(), reinterpret_cast<char*>(ext->hash.data()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace mamori::storage::internal

namespace mamori::storage::internal {

void GroupBuilder::Clear(std::uint64_t key_seq) {
  key_ = key_seq;
  last_ = key_seq;
  count_ = 0;
  items_.clear();
}

void GroupBuilder::Add(std::uint64_t seq, std::string_view value) {
  // The first delta is from the key (0 when the first record is the key's), the others from the
  // previous record (>= 1).
  PutVarint(&items_, seq - last_);
  PutVarint(&items_, value.size());
  if (count_ == 0) single_at_ = items_.size();
  items_.append(value);
  last_ = seq;
  ++count_;
}

std::string_view GroupBuilder::header() {
  header_.clear();
  if (count_ == 1 && last_ == key_) return header_;  // stored as the record's own value
  header_.push_back(static_cast<char>(kRecordGroupV3));
  PutVarint(&header_, count_);
  return header_;
}

std::string GroupBuilder::Value() {
  if (count_ == 1 && last_ == key_) return items_.substr(single_at_);
  std::string v(header());
  v += items_;
  return v;
}

Status SplitRecords(std::uint64_t key_seq, std::string_view value, std::vector<GroupItem>* out) {
  out->clear();
  if (value.empty() || static_cast<std::uint8_t>(value[0]) != kRecordGroupV3) {
    out->push_back({key_seq, value});
    return Status::Ok();
  }
  auto bad = [&](std::string_view what) {
    out->clear();
    return Status::Corruption("record group " + std::to_string(key_seq) + ": " + std::string(what));
  };
  Reader in(value.substr(1));
  std::uint64_t count;
  if (!in.GetVarint(&count) || count == 0) return bad("bad record count");
  // Each item takes at least 3 bytes (delta, length, a version byte): a count that cannot fit
  // is rejected before anything is reserved for it.
  if (count > value.size() / 3) return bad("record count larger than the value");
  out->reserve(count);
  std::uint64_t seq = key_seq;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t delta;
    std::string_view v;
    if (!in.GetVarint(&delta)) return bad("truncated");
    if ((i > 0 && delta == 0) || delta > UINT64_MAX - seq) return bad("seqs not increasing");
    seq += delta;
    if (!in.GetView(&v)) return bad("a record runs past the end");
    out->push_back({seq, v});
  }
  if (!in.done()) return bad("bytes after the last record");
  return Status::Ok();
}

Result<std::string> DropRecords(std::uint64_t key_seq, std::string_view value,
                                const std::vector<std::uint64_t>& drop) {
  std::vector<GroupItem> items;
  if (Status s = SplitRecords(key_seq, value, &items); !s.ok()) return s;
  GroupBuilder b;
  b.Clear(key_seq);
  for (const GroupItem& it : items) {
    if (!std::binary_search(drop.begin(), drop.end(), it.seq)) b.Add(it.seq, it.value);
  }
  if (b.count() == 0) return std::string();
  if (b.count() == items.size() && items.size() == 1) return std::string(value);
  return b.Value();
}

}  // namespace mamori::storage::internal
