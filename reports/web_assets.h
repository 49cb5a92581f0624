#pragma once
// What the HTML page is made of besides its data: the page's own CSS and scripts (reports/web/*.css|js,
// compiled into the program), and the charting library (Vega, Vega-Lite, Vega-Embed from npm), read at run
// time from a node_modules folder and inlined into the page so that it opens offline.
#include <string>
#include <vector>

namespace lb {

struct PageAssets {
  std::string css, errors_js, page_js;  // compiled in
};
const PageAssets& page_assets();

struct ChartLibrary {
  bool found = false;
  std::string dir;                       // the node_modules folder used
  std::string vega, vega_lite, vega_embed;  // minified UMD builds
  std::string versions;                  // "vega 6.4.0, vega-lite 6.4.3, vega-embed 7.3.0"
  std::vector<std::string> looked_in;    // every folder tried, for the message when not found
};

// Looks in `explicit_dir` when given (and only there), else in $LESIONBENCH_WEB_MODULES, the source tree's
// reports/web/node_modules, and beside the executable (../share/lesionbench/web/node_modules,
// ../../reports/web/node_modules for a build tree).
ChartLibrary find_chart_library(const std::string& explicit_dir = "");

}  // namespace lb
