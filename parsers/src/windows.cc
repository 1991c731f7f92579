// Windows events: JSON in the shapes of the common shippers (Wazuh/OSSEC eventchannel "win.*",
// Winlogbeat "winlog.*", NXLog flat keys, the XML-to-JSON "Event.System/EventData" shape),
// including Sysmon, and Snare "MSWinEventLog" over syslog.
#include <array>
#include <string>

#include "body.h"

namespace mamori::parsers::internal {
namespace {

// The EventData / System items the dictionary uses (lower case, as compared).
enum Item {
  kEventId,
  kChannel,
  kProvider,
  kComputer,
  kTargetUser,
  kSubjectUser,
  kUser,
  kIpAddress,
  kIpPort,
  kSourceIp,
  kSourcePort,
  kDestIp,
  kDestPort,
  kProtocol,
  kImage,
  kCommandLine,
  kParentImage,
  kParentCommandLine,
  kProcessId,
  kTargetFilename,
  kTargetObject,
  kQueryName,
  kServiceName,
  kDestHost,
  kWorkstation,
  kLogonType,
  kStatus,
  kTargetDomain,
  kNumItems
};

struct Name {
  std::string_view lower;
  Item item;
};
constexpr Name kNames[] = {
    {"eventid", kEventId},
    {"event_id", kEventId},
    {"channel", kChannel},
    {"providername", kProvider},
    {"provider_name", kProvider},
    {"sourcename", kProvider},
    {"eventsourcename", kProvider},
    {"provider.#attributes.name", kProvider},
    {"computer", kComputer},
    {"computer_name", kComputer},
    {"hostname", kComputer},
    {"targetusername", kTargetUser},
    {"subjectusername", kSubjectUser},
    {"user", kUser},
    {"ipaddress", kIpAddress},
    {"ipport", kIpPort},
    {"sourceip", kSourceIp},
    {"sourceaddress", kSourceIp},
    {"sourceport", kSourcePort},
    {"destinationip", kDestIp},
    {"destaddress", kDestIp},
    {"destinationport", kDestPort},
    {"destport", kDestPort},
    {"protocol", kProtocol},
    {"image", kImage},
    {"newprocessname", kImage},
    {"application", kImage},
    {"commandline", kCommandLine},
    {"parentimage", kParentImage},
    {"parentprocessname", kParentImage},
    {"parentcommandline", kParentCommandLine},
    {"processid", kProcessId},
    {"targetfilename", kTargetFilename},
    {"targetobject", kTargetObject},
    {"queryname", kQueryName},
    {"servicename", kServiceName},
    {"destinationhostname", kDestHost},
    {"workstationname", kWorkstation},
    {"logontype", kLogonType},
    {"status", kStatus},
    {"targetdomainname", kTargetDomain},
};

// Prefixes under which the shippers put System and EventData items.
constexpr std::string_view kPrefixes[] = {
    "win.system.",   "win.eventdata.",   "winlog.event_data.", "winlog.",
    "Event.System.", "Event.EventData.", "EventData.",         "System.",
};

bool LowerEquals(std::string_view key, std::string_view lower) {
  if (key.size() != lower.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (ToLower(key[i]) != lower[i]) return false;
  }
  return true;
}

struct Action {
  int id;
  std::string_view action, outcome;
};
constexpr Action kSecurity[] = {
    {4624, "login", "success"},
    {4625, "login", "failure"},
    {528, "login", "success"},
    {540, "login", "success"},
    {529, "login", "failure"},
    {530, "login", "failure"},
    {531, "login", "failure"},
    {532, "login", "failure"},
    {533, "login", "failure"},
    {534, "login", "failure"},
    {535, "login", "failure"},
    {539, "login", "failure"},
    {4634, "logout", "success"},
    {4647, "logout", "success"},
    {538, "logout", "success"},
    {4648, "explicit-credentials-logon", "success"},
    {4672, "special-privileges-assigned", "success"},
    {4688, "process-created", "success"},
    {4689, "process-exited", "success"},
    {4697, "service-installed", "success"},
    {7045, "service-installed", "success"},
    {4720, "user-created", "success"},
    {4722, "user-enabled", "success"},
    {4723, "password-change", ""},
    {4724, "password-reset", ""},
    {4725, "user-disabled", "success"},
    {4726, "user-deleted", "success"},
    {4728, "user-added-to-group", "success"},
    {4732, "user-added-to-group", "success"},
    {4756, "user-added-to-group", "success"},
    {4738, "user-changed", "success"},
    {4740, "user-locked-out", "failure"},
    {4771, "login", "failure"},
    {4776, "credential-validation", ""},
    {1102, "audit-log-cleared", "success"},
    {5156, "allow", "success"},
    {5157, "deny", "failure"},
    {5158, "bind", "success"},
    {5152, "deny", "failure"},
};
constexpr Action kSysmon[] = {
    {1, "process-created", ""},      {2, "file-time-changed", ""},
    {3, "network-connection", ""},   {5, "process-terminated", ""},
    {6, "driver-loaded", ""},        {7, "image-loaded", ""},
    {8, "create-remote-thread", ""}, {10, "process-access", ""},
    {11, "file-created", ""},        {12, "registry-object-added-or-deleted", ""},
    {13, "registry-value-set", ""},  {14, "registry-object-renamed", ""},
    {15, "file-stream-created", ""}, {17, "pipe-created", ""},
    {18, "pipe-connected", ""},      {22, "dns-query", ""},
    {23, "file-deleted", ""},        {25, "process-tampering", ""},
    {26, "file-deleted", ""},
};

int ToInt(std::string_view s) {
  int v = 0;
  if (s.empty() || s.size() > 9) return -1;
  for (char c : s) {
    if (!Digit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool Usable(std::string_view v) { return !v.empty() && v != "-" && v != "N/A"; }

void AddUser(Event* out, std::string_view u) {
  // "DOMAIN\user" (Sysmon) -> user.domain + user.name
  std::size_t bs = u.find('\\');
  if (bs != std::string_view::npos) {
    Add(out, "user.domain", u.substr(0, bs));
    u = u.substr(bs + 1);
  }
  Add(out, "user.name", u);
}

void SetWindowsAction(Event* out, int id, bool sysmon, std::string_view status) {
  if (sysmon) {
    for (const Action& a : kSysmon) {
      if (a.id == id) SetAction(out, a.action, a.outcome);
    }
    return;
  }
  for (const Action& a : kSecurity) {
    if (a.id != id) continue;
    std::string_view outcome = a.outcome;
    if (id == 4776 && !status.empty()) outcome = status == "0x0" ? "success" : "failure";
    SetAction(out, a.action, outcome);
    return;
  }
}

}  // namespace

bool NormalizeWindowsJson(Event* out) {
  std::array<std::string_view, kNumItems> v{};
  // Copies: `out->fields` grows below, which would invalidate views into it.
  std::array<std::string, kNumItems> own;
  bool marker = false;
  for (const Field& f : out->fields) {
    std::string_view k = f.key;
    for (std::string_view p : kPrefixes) {
      if (StartsWith(k, p)) {
        k.remove_prefix(p.size());
        marker = true;
        break;
      }
    }
    if (k.size() > 26) continue;
    for (const Name& n : kNames) {
      if (v[n.item].empty() && LowerEquals(k, n.lower)) {
        own[n.item] = f.value;
        v[n.item] = own[n.item];
        break;
      }
    }
  }
  int id = ToInt(v[kEventId]);
  // A Windows event has an event id and a channel or provider (NXLog: SourceName).
  if (id < 0 || (v[kChannel].empty() && v[kProvider].empty())) return false;
  (void)marker;
  bool sysmon = v[kProvider].find("Sysmon") != std::string_view::npos ||
                v[kChannel].find("Sysmon") != std::string_view::npos;
  out->format = "windows";
  Add(out, "event.code", v[kEventId]);
  if (!v[kChannel].empty()) Add(out, "winlog.channel", v[kChannel]);
  if (!v[kProvider].empty()) Add(out, "event.provider", v[kProvider]);
  if (sysmon) Add(out, "event.module", "sysmon");
  if (Usable(v[kComputer])) {
    Add(out, "host.name", v[kComputer]);
    if (out->host.empty()) out->host = std::string(v[kComputer]);
  }
  if (Usable(v[kTargetUser])) {
    AddUser(out, v[kTargetUser]);
  } else if (Usable(v[kSubjectUser])) {
    AddUser(out, v[kSubjectUser]);
  } else if (Usable(v[kUser])) {
    AddUser(out, v[kUser]);
  }
  if (Usable(v[kTargetDomain])) Add(out, "user.domain", v[kTargetDomain]);
  if (Usable(v[kIpAddress]) && IsIp(v[kIpAddress])) {
    Add(out, "source.ip", v[kIpAddress]);
    if (Usable(v[kIpPort]) && v[kIpPort] != "0") Add(out, "source.port", v[kIpPort]);
  } else if (Usable(v[kSourceIp])) {
    Add(out, "source.ip", v[kSourceIp]);
    if (Usable(v[kSourcePort])) Add(out, "source.port", v[kSourcePort]);
  }
  if (Usable(v[kDestIp])) Add(out, "destination.ip", v[kDestIp]);
  if (Usable(v[kDestPort])) Add(out, "destination.port", v[kDestPort]);
  if (Usable(v[kDestHost])) Add(out, "destination.domain", v[kDestHost]);
  if (Usable(v[kProtocol])) Add(out, "network.transport", ProtoName(v[kProtocol]));
  if (Usable(v[kImage])) {
    Add(out, "process.executable", v[kImage]);
    Add(out, "process.name", BaseName(v[kImage]));
  }
  if (Usable(v[kCommandLine])) Add(out, "process.command_line", v[kCommandLine]);
  if (Usable(v[kProcessId])) Add(out, "process.pid", v[kProcessId]);
  if (Usable(v[kParentImage])) Add(out, "process.parent.executable", v[kParentImage]);
  if (Usable(v[kParentCommandLine])) {
    Add(out, "process.parent.command_line", v[kParentCommandLine]);
  }
  if (Usable(v[kTargetFilename])) Add(out, "file.path", v[kTargetFilename]);
  if (Usable(v[kTargetObject])) Add(out, "registry.path", v[kTargetObject]);
  if (Usable(v[kQueryName])) Add(out, "dns.question.name", v[kQueryName]);
  if (Usable(v[kServiceName])) Add(out, "service.name", v[kServiceName]);
  if (Usable(v[kWorkstation])) Add(out, "source.domain", v[kWorkstation]);
  if (Usable(v[kLogonType])) Add(out, "winlog.logon.type", v[kLogonType]);
  SetWindowsAction(out, id, sysmon, v[kStatus]);
  return true;
}

bool ParseSnare(const Body& b, Event* out) {
  std::string_view s = b.full;
  std::size_t at = s.substr(0, 256).find("MSWinEventLog");
  if (at == std::string_view::npos) return false;
  std::size_t d = at + 13;
  if (d >= s.size()) return false;
  char delim = s[d];
  if (delim != '\t' && delim != '#' && delim != ' ' && delim != '|' && delim != ',') return false;
  std::string_view sep = delim == '#' ? std::string_view("#011") : s.substr(d, 1);
  std::array<std::string_view, 16> f{};
  std::size_t n = 0, i = d + sep.size();
  while (n < f.size() && i <= s.size()) {
    std::size_t e = s.find(sep, i);
    if (e == std::string_view::npos) e = s.size();
    f[n++] = s.substr(i, e - i);
    i = e + sep.size();
  }
  if (n < 11) return false;
  out->format = "snare";
  if (b.standalone && at > 0 && out->host.empty()) {
    out->host = std::string(Trim(s.substr(0, at)));
  }
  Add(out, "observer.product", "Snare");
  Add(out, "winlog.channel", f[1]);
  Add(out, "winlog.record_id", f[2]);
  Add(out, "event.code", f[4]);
  Add(out, "event.provider", f[5]);
  if (Usable(f[6]) && f[6] != "Unknown User") Add(out, "user.name", f[6]);
  Add(out, "snare.event_type", f[8]);
  if (Usable(f[9])) Add(out, "host.name", f[9]);
  Add(out, "snare.category", f[10]);
  if (n > 12) Add(out, "snare.description", Trim(f[12]));
  std::string_view desc = n > 12 ? f[12] : std::string_view();
  std::size_t sna = desc.find("Source Network Address:");
  if (sna != std::string_view::npos) {
    std::string_view rest = Trim(desc.substr(sna + 23));
    std::size_t e = rest.find_first_of(" \t");
    std::string_view ip = rest.substr(0, e);
    if (IsIp(ip)) Add(out, "source.ip", ip);
  }
  int id = ToInt(f[4]);
  if (f[8] == "Success Audit" || f[8] == "Failure Audit") {
    bool ok = f[8] == "Success Audit";
    bool found = false;
    for (const Action& a : kSecurity) {
      if (a.id == id) {
        SetAction(out, a.action, ok ? "success" : "failure");
        found = true;
        break;
      }
    }
    if (!found) Add(out, "event.outcome", ok ? "success" : "failure");
  }
  return true;
}

}  // namespace mamori::parsers::internal
