#pragma once
// leaderboard.html: one self-contained page (styles, scripts, charting library, data and pictures inlined)
// that opens offline from file://. Tables are plain HTML (readable without scripts); charts are Vega-Lite
// specifications built by the page's script from the data block. Without the charting library the page
// still holds every table and picture, and each chart panel says why it is empty.
#include <cstdint>
#include <string>
#include <vector>

#include "reports/leaderboard.h"
#include "reports/leaderboard_json.h"
#include "reports/web_assets.h"

namespace lb {

struct CasePicture {
  std::string team, case_key;
  std::vector<uint8_t> png;
  int width = 0, height = 0;
  std::string caption;
};

struct GpuSeries {
  std::string team, case_key;
  double wall_s = 0;
  std::vector<double> t_s, mib;
};

struct HtmlPage {
  const Leaderboard* board = nullptr;
  ToolInfo tool;
  ReportInputs inputs;
  std::vector<CasePicture> pictures;
  std::vector<std::string> picture_notes;  // why pictures are missing, shown on the page
  std::vector<GpuSeries> gpu_series;       // slowest cases per team
  std::string gpu_series_note;             // shown when there is no series
  const ChartLibrary* charts = nullptr;
};

std::string render_html(const HtmlPage& page);

// Team colours, by place order (colour-blind-safe categorical palette).
const std::string& team_colour(size_t index);

// Text for HTML element content and attribute values.
std::string html_escape(const std::string& s);

}  // namespace lb
