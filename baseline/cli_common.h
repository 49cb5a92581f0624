#pragma once
// Small helpers shared by the lesionbench-baseline subcommands (main.cpp, cmd_train_cnn.cpp).
#include <tbb/global_control.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "args/args.h"

namespace lb::baseline::cli {

using args::UsageError;

inline std::unique_ptr<tbb::global_control> limit_threads(int threads) {
  if (threads < 0) throw UsageError("--threads must be 0 (all cores) or more");
  if (threads == 0) return nullptr;
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
}

inline nlohmann::json patch_of(const std::string& text, const std::string& flag) {
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw std::runtime_error("not an object");
    return j;
  } catch (const std::exception& e) {
    throw UsageError(flag + " needs a JSON object, e.g. '{\"threshold\": 0.4}': " + e.what());
  }
}

// `value` with the JSON merge patch `text` applied (unchanged when empty); a bad patch is a usage error, and
// so is a key the settings do not have: a misspelt '{"treshold": 0.4}' would otherwise change nothing silently.
template <class T>
T patched(const T& value, const std::string& text, const std::string& flag) {
  if (text.empty()) return value;
  nlohmann::json j = value;
  const nlohmann::json patch = patch_of(text, flag);
  for (const auto& item : patch.items())
    if (!j.contains(item.key())) {
      std::string known;
      for (const auto& k : j.items()) known += (known.empty() ? "" : ", ") + k.key();
      throw UsageError(flag + ": unknown key '" + item.key() + "' (known: " + known + ")");
    }
  j.merge_patch(patch);
  try {
    return j.get<T>();
  } catch (const std::exception& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

// "2,2,3" -> three numbers.
template <class T>
std::array<T, 3> parse_triple(const std::string& text, const std::string& flag) {
  std::array<T, 3> v{};
  char c1 = 0, c2 = 0;
  std::istringstream in(text);
  if (!(in >> v[0] >> c1 >> v[1] >> c2 >> v[2]) || c1 != ',' || c2 != ',' || !in.eof())
    throw UsageError(flag + " needs three numbers separated by commas, e.g. 2,2,3");
  return v;
}

}  // namespace lb::baseline::cli
