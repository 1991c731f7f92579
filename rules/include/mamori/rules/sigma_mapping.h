// SigmaMapping: how a rule's `logsource` and Sigma field names become conditions on mamori event
// fields. The same log source table serves mamori rules (`logsource: {product: windows, ...}`).
//
// A log source (product, category or service) maps to constraints: an event field and the values
// it may take (case-insensitive; an empty list means "the field exists"). A rule applies to an
// event only when every constraint of every mapped logsource attribute holds (constraints on the
// same field intersect: `product: linux` allows the Linux formats, `category: process_creation`
// under linux allows `auditd`, the rule gets `format: auditd`). A category or
// service that is not in the table adds no constraint; a product that is not in the table
// restricts the rule to events whose `format` is the product name (e.g. product zeek -> format
// zeek). Both cases are warned about by the loader. Rules are indexed by these constraints.
//
// A Sigma field name maps, per product, through `fields` (exact renames) and then `prefix`
// (prepended to names not in the table). Products without an entry keep names unchanged. A name
// may map to several candidate event keys, the first one present in the event wins: a `fields`
// entry may list several keys, and `alternatives` are templates tried after the prefixed name
// of every name not in `fields` ({name}: the Sigma name; {name_spaced}: CamelCase split with
// spaces, "ThreatName" -> "Threat Name"; {name_camel}: first letter lower-cased, "IpAddress" ->
// "ipAddress"). A key segment "*" matches any one segment of an event key (Windows UserData:
// "Event.UserData.*.{name}"). `key_alternatives` gives further candidates for an event key
// wherever the mapping produces it, in log source constraints too: the default maps
// Event.System.Channel also to winlog.channel, the channel the Windows parser names for every
// shipper's layout.
//
// The default Windows mapping reads the XML-to-JSON layout (Event.System / Event.EventData),
// Winlogbeat (winlog.event_data.*), Wazuh (win.eventdata.*, camelCase) and NXLog's flat keys;
// the system fields (EventID, Channel, Computer, provider) through the parser's normalized
// event.code, winlog.channel, host.name and event.provider when the nested keys are absent.
//
// The mapping is data; load a custom one with FromYaml. Format (the default, abridged):
//   products:
//     windows:
//       prefix: Event.EventData.
//       alternatives: ['Event.EventData.{name_spaced}', 'Event.UserData.*.{name}']
//       fields: {EventID: Event.System.EventID, Channel: Event.System.Channel, ...}
//       logsource:
//         product: {Event.System.Channel: []}
//         category:
//           process_creation: {Event.System.EventID: [1, 4688]}
//         service:
//           security: {Event.System.Channel: [Security]}
//
// Thread-safety: a value type; const methods may be called from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/core/status.h"

namespace mamori::rules {

struct LogSourceConstraint {
  std::string field;                // event field key or pseudo-field (see README)
  std::vector<std::string> values;  // any of, case-insensitive; empty = the field exists
};

struct SigmaProductMapping {
  std::string prefix;                         // prepended to unmapped field names
  std::map<std::string, std::string> fields;  // Sigma name -> event field key
  // Sigma name -> further candidate keys, tried in order after fields[name].
  std::map<std::string, std::vector<std::string>> field_alternatives;
  // Candidate key templates tried after prefix + name for names not in `fields`.
  std::vector<std::string> alternatives;
  // Event key -> further candidate keys, added after it wherever it is produced (mapped fields
  // and log source constraints).
  std::map<std::string, std::vector<std::string>> key_alternatives;
  std::vector<LogSourceConstraint> product;  // constraints of the product itself
  std::map<std::string, std::vector<LogSourceConstraint>> category;
  std::map<std::string, std::vector<LogSourceConstraint>> service;
};

class SigmaMapping {
 public:
  // The built-in mapping: Windows event JSON (Event.System / Event.EventData) with the Sysmon,
  // Security, PowerShell, Defender and other channels; Linux services by syslog app name.
  static SigmaMapping Default();
  // Parses a mapping document (format above). Errors name the key.
  static Result<SigmaMapping> FromYaml(std::string_view yaml);

  // The event field for a Sigma field name used under `product` (may be empty): the first of
  // MapFieldCandidates().
  std::string MapField(std::string_view product, std::string_view name) const;
  // Every candidate event key for the name, in order (first present wins); never empty.
  std::vector<std::string> MapFieldCandidates(std::string_view product,
                                              std::string_view name) const;
  // The candidates for an event key under `product`: the key, then its key_alternatives.
  std::vector<std::string> KeyCandidates(std::string_view product, const std::string& key) const;
  // Constraints for a logsource; unmapped attributes are appended to `unmapped` ("category: x").
  std::vector<LogSourceConstraint> Constraints(std::string_view product, std::string_view category,
                                               std::string_view service,
                                               std::vector<std::string>* unmapped) const;

  std::map<std::string, SigmaProductMapping> products;
  // Mapping for products not listed above (also used when a rule has no product). Its log
  // source table (category, service) applies only to rules without a product: the default maps
  // webserver, proxy, firewall and dns, and the apache and nginx services, to formats.
  SigmaProductMapping fallback;
};

}  // namespace mamori::rules
