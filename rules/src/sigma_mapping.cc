#include "mamori/rules/sigma_mapping.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace mamori::rules {

namespace {

// The built-in mapping, in the FromYaml format.
constexpr const char* kDefault = R"(
products:
  windows:
    prefix: Event.EventData.
    # Defender writes "Threat Name", "Source Name"...; WMI-Activity and others use UserData.
    # Then the other shippers' layouts: Winlogbeat, Wazuh (camelCase), NXLog (flat keys).
    alternatives: ['Event.EventData.{name_spaced}', 'Event.UserData.*.{name}',
                   'winlog.event_data.{name}', 'win.eventdata.{name_camel}', '{name}']
    # System fields of the other layouts: the parser's normalized names.
    key_alternatives:
      Event.System.EventID: [event.code]
      Event.System.Channel: [winlog.channel]
      Event.System.Computer: [host.name]
      Event.System.Provider.#attributes.Name: [event.provider]
      # Security 4688 names the new process NewProcessName, its parent ParentProcessName; the
      # parser normalizes both (and Sysmon's Image, ParentImage) for every layout.
      Event.EventData.Image: [process.executable]
      Event.EventData.ParentImage: [process.parent.executable]
    fields:
      EventID: Event.System.EventID
      Channel: Event.System.Channel
      Computer: Event.System.Computer
      ComputerName: Event.System.Computer
      Provider_Name: Event.System.Provider.#attributes.Name
      Security_UserID: Event.System.Security.#attributes.UserID
      Level: Event.System.Level
      Task: Event.System.Task
      Opcode: Event.System.Opcode
      Keywords: Event.System.Keywords
      EventRecordID: Event.System.EventRecordID
      Version: Event.System.Version
    logsource:
      product:
        Event.System.Channel: []
      category:
        process_creation:
          Event.System.EventID: [1, 4688]
          Event.System.Channel: [Microsoft-Windows-Sysmon/Operational, Security]
        file_change: {Event.System.EventID: [2], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        network_connection: {Event.System.EventID: [3], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        sysmon_status: {Event.System.EventID: [4, 16], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        process_termination: {Event.System.EventID: [5], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        driver_load: {Event.System.EventID: [6], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        image_load: {Event.System.EventID: [7], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        create_remote_thread: {Event.System.EventID: [8], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        raw_access_thread: {Event.System.EventID: [9], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        process_access: {Event.System.EventID: [10], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_event: {Event.System.EventID: [11], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        registry_add: {Event.System.EventID: [12], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        registry_delete: {Event.System.EventID: [12], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        registry_set: {Event.System.EventID: [13], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        registry_rename: {Event.System.EventID: [14], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        registry_event: {Event.System.EventID: [12, 13, 14], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        create_stream_hash: {Event.System.EventID: [15], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        pipe_created: {Event.System.EventID: [17, 18], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        wmi_event: {Event.System.EventID: [19, 20, 21], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        dns_query: {Event.System.EventID: [22], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_delete: {Event.System.EventID: [23, 26], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        clipboard_capture: {Event.System.EventID: [24], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        process_tampering: {Event.System.EventID: [25], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_delete_detected: {Event.System.EventID: [26], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_block_executable: {Event.System.EventID: [27], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_block_shredding: {Event.System.EventID: [28], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        file_executable_detected: {Event.System.EventID: [29], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        sysmon_error: {Event.System.EventID: [255], Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        ps_module: {Event.System.EventID: [4103], Event.System.Channel: [Microsoft-Windows-PowerShell/Operational]}
        ps_script: {Event.System.EventID: [4104], Event.System.Channel: [Microsoft-Windows-PowerShell/Operational]}
        ps_classic_start: {Event.System.EventID: [400], Event.System.Channel: [Windows PowerShell]}
        ps_classic_provider_start: {Event.System.EventID: [600], Event.System.Channel: [Windows PowerShell]}
        ps_classic_script: {Event.System.EventID: [800], Event.System.Channel: [Windows PowerShell]}
      service:
        security: {Event.System.Channel: [Security]}
        system: {Event.System.Channel: [System]}
        application: {Event.System.Channel: [Application]}
        sysmon: {Event.System.Channel: [Microsoft-Windows-Sysmon/Operational]}
        powershell: {Event.System.Channel: [Microsoft-Windows-PowerShell/Operational]}
        powershell-classic: {Event.System.Channel: [Windows PowerShell]}
        taskscheduler: {Event.System.Channel: [Microsoft-Windows-TaskScheduler/Operational]}
        wmi: {Event.System.Channel: [Microsoft-Windows-WMI-Activity/Operational]}
        windefend: {Event.System.Channel: [Microsoft-Windows-Windows Defender/Operational]}
        dns-server: {Event.System.Channel: [DNS Server]}
        driver-framework: {Event.System.Channel: [Microsoft-Windows-DriverFrameworks-UserMode/Operational]}
        firewall-as: {Event.System.Channel: [Microsoft-Windows-Windows Firewall With Advanced Security/Firewall]}
        bits-client: {Event.System.Channel: [Microsoft-Windows-Bits-Client/Operational]}
        codeintegrity-operational: {Event.System.Channel: [Microsoft-Windows-CodeIntegrity/Operational]}
        ntlm: {Event.System.Channel: [Microsoft-Windows-NTLM/Operational]}
        applocker:
          Event.System.Channel: [Microsoft-Windows-AppLocker/MSI and Script, Microsoft-Windows-AppLocker/EXE and DLL, Microsoft-Windows-AppLocker/Packaged app-Deployment, Microsoft-Windows-AppLocker/Packaged app-Execution]
        terminalservices-localsessionmanager: {Event.System.Channel: [Microsoft-Windows-TerminalServices-LocalSessionManager/Operational]}
        openssh: {Event.System.Channel: [OpenSSH/Operational]}
        printservice-admin: {Event.System.Channel: [Microsoft-Windows-PrintService/Admin]}
        printservice-operational: {Event.System.Channel: [Microsoft-Windows-PrintService/Operational]}
        smbclient-security: {Event.System.Channel: [Microsoft-Windows-SmbClient/Security]}
        appxdeployment-server: {Event.System.Channel: [Microsoft-Windows-AppXDeploymentServer/Operational]}
        lsa-server: {Event.System.Channel: [Microsoft-Windows-LSA/Operational]}
        capi2: {Event.System.Channel: [Microsoft-Windows-CAPI2/Operational]}
        certificateservicesclient-lifecycle-system: {Event.System.Channel: [Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational]}
  cisco:
    logsource:
      product: {format: [cisco, unparsed]}
      service:
        aaa: {}
        bgp: {}
        ldp: {}
  linux:
    # Names as they are (the Linux parsers' fields), then auditd's own keys: Sigma's auditd rules
    # name the record's keys (type, syscall, exe, a0, key...), the parser keeps them as auditd.*.
    alternatives: ['auditd.{name}']
    logsource:
      # Linux log formats (parsers FormatNames()): syslog headers and the Linux body parsers.
      product: {format: [rfc3164, rfc5424, sshd, sudo, su, pam, linux_user, auditd, iptables]}
      # Process, file and network activity on Linux comes from auditd only.
      category:
        process_creation: {format: [auditd]}
        file_event: {format: [auditd]}
        file_change: {format: [auditd]}
        file_delete: {format: [auditd]}
        network_connection: {format: [auditd]}
      service:
        sshd: {app: [sshd]}
        sudo: {app: [sudo]}
        su: {app: [su]}
        cron: {app: [cron, CRON, crond]}
        vsftpd: {app: [vsftpd]}
        clamav: {app: [clamd, freshclam, clamav]}
        guacamole: {app: [guacd, guacamole]}
        auth: {}
        syslog: {}
        auditd: {format: [auditd]}
# Rules without a product: categories and services of other logs, by the formats that carry them.
fallback:
  logsource:
    category:
      webserver: {format: [http_access, apache_error, nginx_error]}
      proxy: {format: [http_access, cef, leef, kv, fortigate, panos, checkpoint]}
      firewall: {format: [iptables, pfsense, cisco_asa, fortigate, panos, checkpoint, cef, leef, kv]}
      dns: {format: [dns, cef, leef, kv]}
    service:
      apache: {format: [http_access, apache_error]}
      nginx: {format: [http_access, nginx_error]}
)";

bool ParseConstraints(const YAML::Node& n, std::vector<LogSourceConstraint>* out,
                      std::string* err) {
  if (n.IsNull()) return true;
  if (!n.IsMap()) {
    *err = "constraints must be a map of field: [values]";
    return false;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    LogSourceConstraint c;
    c.field = it->first.Scalar();
    if (it->second.IsScalar()) {
      c.values.push_back(it->second.Scalar());
    } else if (it->second.IsSequence()) {
      // A copy of the node (a handle): `it->second` lives in a temporary of yaml-cpp's iterator
      // proxy, which a range-for would use after its end (found by fuzz_rules under ASan).
      const YAML::Node values = it->second;
      for (const auto& v : values) c.values.push_back(v.Scalar());
    } else if (!it->second.IsNull()) {
      *err = c.field + ": expected a value or a list";
      return false;
    }
    out->push_back(std::move(c));
  }
  return true;
}

bool ParseProduct(const YAML::Node& n, SigmaProductMapping* p, std::string* err) {
  if (n["prefix"]) p->prefix = n["prefix"].Scalar();
  if (const YAML::Node f = n["fields"]) {
    for (auto it = f.begin(); it != f.end(); ++it) {
      const std::string name = it->first.Scalar();
      if (it->second.IsSequence()) {
        std::vector<std::string> keys;
        const YAML::Node list = it->second;  // not a range-for over the proxy (above)
        for (const auto& k : list) keys.push_back(k.Scalar());
        if (keys.empty()) {
          *err = "fields." + name + ": empty list";
          return false;
        }
        p->fields[name] = keys[0];
        p->field_alternatives[name].assign(keys.begin() + 1, keys.end());
      } else {
        p->fields[name] = it->second.Scalar();
      }
    }
  }
  if (const YAML::Node k = n["key_alternatives"]) {
    if (!k.IsMap()) {
      *err = "key_alternatives: expected a map of key: [keys]";
      return false;
    }
    for (auto it = k.begin(); it != k.end(); ++it) {
      const std::string key = it->first.Scalar();
      const YAML::Node list = it->second;  // not a range-for over the proxy (above)
      if (!list.IsSequence()) {
        *err = "key_alternatives." + key + ": expected a list of keys";
        return false;
      }
      for (const auto& alt : list) p->key_alternatives[key].push_back(alt.Scalar());
    }
  }
  if (const YAML::Node a = n["alternatives"]) {
    if (!a.IsSequence()) {
      *err = "alternatives: expected a list of key templates";
      return false;
    }
    for (const auto& t : a) p->alternatives.push_back(t.Scalar());
  }
  const YAML::Node ls = n["logsource"];
  if (!ls) return true;
  if (ls["product"] && !ParseConstraints(ls["product"], &p->product, err)) {
    *err = "logsource.product: " + *err;
    return false;
  }
  for (const char* kind : {"category", "service"}) {
    const YAML::Node m = ls[kind];
    if (!m) continue;
    for (auto it = m.begin(); it != m.end(); ++it) {
      auto& dst = std::string_view(kind) == "category" ? p->category : p->service;
      if (!ParseConstraints(it->second, &dst[it->first.Scalar()], err)) {
        *err = std::string("logsource.") + kind + "." + it->first.Scalar() + ": " + *err;
        return false;
      }
    }
  }
  return true;
}

}  // namespace

SigmaMapping SigmaMapping::Default() {
  static const SigmaMapping* m = new SigmaMapping(std::move(FromYaml(kDefault).value()));
  return *m;
}

Result<SigmaMapping> SigmaMapping::FromYaml(std::string_view yaml) {
  try {
    YAML::Node doc = YAML::Load(std::string(yaml));
    SigmaMapping m;
    std::string err;
    if (const YAML::Node ps = doc["products"]) {
      for (auto it = ps.begin(); it != ps.end(); ++it) {
        if (!ParseProduct(it->second, &m.products[it->first.Scalar()], &err)) {
          return Status::InvalidArgument("products." + it->first.Scalar() + "." + err);
        }
      }
    }
    if (doc["fallback"] && !ParseProduct(doc["fallback"], &m.fallback, &err)) {
      return Status::InvalidArgument("fallback." + err);
    }
    return m;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("sigma mapping: ") + e.what());
  }
}

std::string SigmaMapping::MapField(std::string_view product, std::string_view name) const {
  return MapFieldCandidates(product, name)[0];
}

namespace {

// "ThreatName" -> "Threat Name", "ThreatID" -> "Threat ID", "FWLink" -> "FWLink".
std::string Spaced(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (i > 0 && std::isupper(static_cast<unsigned char>(name[i])) &&
        std::islower(static_cast<unsigned char>(name[i - 1]))) {
      out += ' ';
    }
    out += name[i];
  }
  return out;
}

std::string Expand(std::string_view tmpl, std::string_view name) {
  std::string out(tmpl);
  std::string camel(name);
  if (!camel.empty())
    camel[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(camel[0])));
  for (auto [ph, value] : {std::pair<std::string_view, std::string>{"{name_spaced}", Spaced(name)},
                           {"{name_camel}", camel},
                           {"{name}", std::string(name)}}) {
    for (size_t at = out.find(ph); at != std::string::npos; at = out.find(ph, at + value.size())) {
      out.replace(at, ph.size(), value);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> SigmaMapping::MapFieldCandidates(std::string_view product,
                                                          std::string_view name) const {
  auto it = products.find(std::string(product));
  const SigmaProductMapping& p = it == products.end() ? fallback : it->second;
  std::vector<std::string> out;
  auto add = [&](std::string k) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(std::move(k));
  };
  auto f = p.fields.find(std::string(name));
  if (f != p.fields.end()) {
    add(f->second);
  } else {
    add(p.prefix + std::string(name));
    for (const auto& t : p.alternatives) add(Expand(t, name));
  }
  auto a = p.field_alternatives.find(std::string(name));
  if (a != p.field_alternatives.end()) {
    for (const auto& k : a->second) add(k);
  }
  if (!p.key_alternatives.empty()) {
    const std::vector<std::string> keys = out;
    for (const auto& k : keys) {
      for (auto& alt : KeyCandidates(product, k)) add(std::move(alt));
    }
  }
  return out;
}

std::vector<std::string> SigmaMapping::KeyCandidates(std::string_view product,
                                                     const std::string& key) const {
  auto it = products.find(std::string(product));
  const SigmaProductMapping& p = it == products.end() ? fallback : it->second;
  std::vector<std::string> out{key};
  auto ka = p.key_alternatives.find(key);
  if (ka != p.key_alternatives.end()) {
    for (const auto& alt : ka->second) {
      if (std::find(out.begin(), out.end(), alt) == out.end()) out.push_back(alt);
    }
  }
  return out;
}

std::vector<LogSourceConstraint> SigmaMapping::Constraints(
    std::string_view product, std::string_view category, std::string_view service,
    std::vector<std::string>* unmapped) const {
  std::vector<LogSourceConstraint> out;
  auto it = products.find(std::string(product));
  // The fallback's log source table serves rules without a product; an unknown product pins
  // the format instead, and its categories and services are unmapped.
  static const SigmaProductMapping kNone;
  const SigmaProductMapping& p = it != products.end() ? it->second
                                 : product.empty()    ? fallback
                                                      : kNone;
  if (!product.empty() && it == products.end()) {
    // Unknown products apply only to events whose format names them (set by a parser or by
    // the listener's configured format), never to every event.
    unmapped->push_back("product: " + std::string(product) +
                        " (applies to format: " + std::string(product) + ")");
    out.push_back(LogSourceConstraint{"format", {std::string(product)}});
  }
  out.insert(out.end(), p.product.begin(), p.product.end());
  auto add = [&](const std::map<std::string, std::vector<LogSourceConstraint>>& m,
                 std::string_view value, const char* what) {
    if (value.empty()) return;
    auto c = m.find(std::string(value));
    if (c == m.end()) {
      unmapped->push_back(std::string(what) + ": " + std::string(value));
      return;
    }
    out.insert(out.end(), c->second.begin(), c->second.end());
  };
  add(p.category, category, "category");
  add(p.service, service, "service");
  return out;
}

}  // namespace mamori::rules
