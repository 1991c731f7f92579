// The staged loader: read (YAML documents) -> collect (rules) -> resolve (correlations) ->
// compile.
#include "mamori/rules/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collect.h"
#include "compiled.h"

namespace mamori::rules {

namespace {

using internal::Collected;
using internal::Diags;

struct Chunk {
  std::string text;
  int line_offset;
};

// Splits a stream at document markers ("---" lines) so that a syntax error in one document
// does not hide the others.
std::vector<Chunk> SplitDocuments(const std::string& text) {
  std::vector<Chunk> out;
  std::string cur;
  int line = 0, start = 0;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == "---" || l.starts_with("--- ") || l == "...") {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back({cur, start});
      cur.clear();
      start = line + 1;
      // Keep the line count: the marker line itself is dropped.
    } else {
      cur += l;
      cur += '\n';
    }
    ++line;
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back({cur, start});
  return out;
}

bool IsSigma(const YAML::Node& doc) {
  if (!doc.IsMap() || doc["match"] || doc["selections"] || doc["rules"]) return false;
  return doc["detection"] || doc["correlation"] || doc["filter"];
}

void CollectSource(const RuleSource& src, const LoadOptions& options,
                   std::vector<Diagnostic>* diagnostics, Collected* out) {
  for (const Chunk& c : SplitDocuments(src.text)) {
    Diags diags(src.name, diagnostics, c.line_offset);
    YAML::Node doc;
    try {
      doc = YAML::Load(c.text);
    } catch (const YAML::Exception& e) {
      diags.Add(Diagnostic::Level::kError, e.mark, "", "YAML syntax error: " + e.msg);
      continue;
    }
    try {
      if (IsSigma(doc)) {
        if (!options.enable_sigma) {
          diags.Add(Diagnostic::Level::kError, doc, "", "Sigma rules are disabled");
        } else if (doc["filter"] && !doc["detection"]) {
          diags.Add(Diagnostic::Level::kUnsupported, doc["filter"],
                    doc["name"] ? doc["name"].Scalar() : "", "unsupported: Sigma filter rules");
        } else {
          internal::CollectSigma(doc, diags, options, out);
        }
      } else {
        internal::CollectNative(doc, diags, options, out);
      }
    } catch (const YAML::Exception& e) {
      diags.Add(Diagnostic::Level::kError, e.mark, "", std::string("malformed document: ") + e.msg);
    }
  }
}

}  // namespace

int LoadResult::errors() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](auto& d) {
    return d.level == Diagnostic::Level::kError;
  }));
}
int LoadResult::warnings() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](auto& d) {
    return d.level == Diagnostic::Level::kWarning;
  }));
}
int LoadResult::unsupported() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](auto& d) {
    return d.level == Diagnostic::Level::kUnsupported;
  }));
}

std::string LoadResult::Format() const {
  std::string out;
  for (const auto& d : diagnostics) {
    out += d.ToString();
    out += '\n';
  }
  return out;
}

LoadResult LoadRuleStrings(const std::vector<RuleSource>& sources, const LoadOptions& options) {
  LoadResult result;
  Collected collected;
  for (const auto& src : sources) {
    ++result.files;
    CollectSource(src, options, &result.diagnostics, &collected);
  }
  for (const auto& c : collected.correlations) {
    try {
      internal::ResolveSigmaCorrelation(c, &result.diagnostics, options, &collected);
    } catch (const YAML::Exception& e) {
      Diags(c.file, &result.diagnostics, c.line_offset)
          .Add(Diagnostic::Level::kError, e.mark, "",
               std::string("malformed correlation: ") + e.msg);
    }
  }
  result.rules = std::make_shared<const RuleSet>(
      internal::Compile(std::move(collected.def), options.compile, &result.diagnostics));
  return result;
}

LoadResult LoadRuleFiles(const std::vector<std::string>& paths, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::vector<RuleSource> sources;
  std::vector<Diagnostic> read_errors;
  auto read = [&](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      read_errors.push_back(
          Diagnostic{Diagnostic::Level::kError, p.string(), 0, 0, "", "cannot read rule file"});
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    sources.push_back(RuleSource{p.string(), ss.str()});
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(path, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
      }
      if (ec) {
        read_errors.push_back(Diagnostic{Diagnostic::Level::kError, path, 0, 0, "",
                                         "cannot list rule directory: " + ec.message()});
      }
      std::sort(files.begin(), files.end());
      for (auto& f : files) read(f);
    } else {
      read(path);
    }
  }
  LoadResult r = LoadRuleStrings(sources, options);
  r.diagnostics.insert(r.diagnostics.begin(), read_errors.begin(), read_errors.end());
  return r;
}

}  // namespace mamori::rules
