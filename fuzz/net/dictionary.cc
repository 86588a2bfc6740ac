// ReadDictionary (fuzzer.h): libFuzzer / AFL dictionary files.
#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/fuzzer.h"

namespace smtp::fuzz {

bool ReadDictionary(const std::string& path, std::vector<std::string>* entries,
                    std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = "cannot open " + path;
    return false;
  }
  std::string line;
  int lineno = 0;
  bool ok = true;
  for (int ch = 0; ok && ch != EOF;) {
    line.clear();
    while ((ch = std::fgetc(f)) != EOF && ch != '\n') {
      if (line.size() < 4096) line.push_back(static_cast<char>(ch));
    }
    ++lineno;
    std::string_view l = line;
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r')) {
      l.remove_suffix(1);
    }
    if (l.empty() || l.front() == '#') continue;
    const std::size_t q = l.find('"');
    if (q == std::string_view::npos || l.size() < q + 2 || l.back() != '"') {
      *error = path + ":" + std::to_string(lineno) + ": not a quoted entry";
      ok = false;
      break;
    }
    const std::string_view body = l.substr(q + 1, l.size() - q - 2);
    std::string entry;
    for (std::size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\') {
        entry.push_back(body[i]);
        continue;
      }
      if (i + 1 < body.size() && (body[i + 1] == '\\' || body[i + 1] == '"')) {
        entry.push_back(body[++i]);
      } else if (i + 3 < body.size() && body[i + 1] == 'x' && std::isxdigit(body[i + 2]) &&
                 std::isxdigit(body[i + 3])) {
        entry.push_back(
            static_cast<char>(std::stoi(std::string(body.substr(i + 2, 2)), nullptr, 16)));
        i += 3;
      } else {
        *error = path + ":" + std::to_string(lineno) + ": bad escape";
        ok = false;
        break;
      }
    }
    if (ok && !entry.empty()) entries->push_back(std::move(entry));
  }
  std::fclose(f);
  return ok;
}

}  // namespace smtp::fuzz
