// Finding and reading the charting library (see web_assets.h).
#include "reports/web_assets.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;

namespace lb {

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string version_of(const fs::path& pkg_json) {
  try {
    std::ifstream in(pkg_json);
    return nlohmann::json::parse(in).value("version", "?");
  } catch (const std::exception&) {
    return "?";
  }
}

fs::path exe_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

bool load_from(const fs::path& dir, ChartLibrary& lib) {
  const fs::path vega = dir / "vega/build/vega.min.js", lite = dir / "vega-lite/build/vega-lite.min.js",
                 embed = dir / "vega-embed/build/vega-embed.min.js";
  std::error_code ec;
  if (!fs::is_regular_file(vega, ec) || !fs::is_regular_file(lite, ec) || !fs::is_regular_file(embed, ec)) return false;
  lib.vega = slurp(vega);
  lib.vega_lite = slurp(lite);
  lib.vega_embed = slurp(embed);
  if (lib.vega.empty() || lib.vega_lite.empty() || lib.vega_embed.empty()) return false;
  lib.found = true;
  lib.dir = dir.string();
  lib.versions = "vega " + version_of(dir / "vega/package.json") + ", vega-lite " +
                 version_of(dir / "vega-lite/package.json") + ", vega-embed " + version_of(dir / "vega-embed/package.json");
  return true;
}

}  // namespace

ChartLibrary find_chart_library(const std::string& explicit_dir) {
  ChartLibrary lib;
  std::vector<fs::path> candidates;
  if (!explicit_dir.empty()) {
    candidates.push_back(explicit_dir);
  } else {
    if (const char* env = std::getenv("LESIONBENCH_WEB_MODULES"); env && *env) candidates.push_back(env);
#ifdef LB_WEB_MODULES_DIR
    candidates.push_back(LB_WEB_MODULES_DIR);
#endif
    const fs::path exe = exe_dir();
    if (!exe.empty()) {
      candidates.push_back(exe / "../share/lesionbench/web/node_modules");
      candidates.push_back(exe / "../../reports/web/node_modules");
    }
  }
  for (const auto& c : candidates) {
    lib.looked_in.push_back(c.lexically_normal().string());
    if (load_from(c, lib)) return lib;
  }
  return lib;
}

}  // namespace lb
