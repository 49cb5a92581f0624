#include "baseline/model.h"

#include "baseline/cnn_train.h"
#include "baseline/file_io.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lb::baseline {

void Classifier::logits(const float* rows, int64_t n, float* out) const {
  const int64_t stride = static_cast<int64_t>(features.size());
  if (type == Type::gbdt) gbdt.add_logits(rows, n, stride, out);
  else logistic.add_logits(rows, n, stride, out);
}

nlohmann::json Classifier::to_json() const {
  nlohmann::json j = type == Type::gbdt ? gbdt.to_json() : logistic.to_json();
  j["features"] = features;
  return j;
}

Classifier Classifier::from_json(const nlohmann::json& j) {
  Classifier c;
  const std::string type = j.at("type");
  c.features = j.at("features").get<std::vector<std::string>>();
  if (type == "gbdt") {
    c.type = Type::gbdt;
    c.gbdt = Gbdt::from_json(j);
    if (c.gbdt.edges.size() != c.features.size()) throw std::runtime_error("gbdt bin_edges do not match its features");
  } else if (type == "logistic") {
    c.type = Type::logistic;
    c.logistic = Logistic::from_json(j);
    if (c.logistic.weights.size() != c.features.size()) throw std::runtime_error("logistic weights do not match its features");
  } else {
    throw std::runtime_error("unknown classifier type '" + type + "'");
  }
  return c;
}

void to_json(nlohmann::json& j, const Postprocess& p) {
  j = {{"threshold", p.threshold},
       {"seed_threshold", p.seed_threshold},
       {"opening_mm", p.opening_mm},
       {"connectivity", p.connectivity},
       {"min_volume_ml", p.min_volume_ml},
       {"min_mean_probability", p.min_mean_probability},
       {"keep_relative_mass", p.keep_relative_mass},
       {"fill_holes", p.fill_holes}};
}

void from_json(const nlohmann::json& j, Postprocess& p) {
  p.threshold = j.at("threshold");
  p.seed_threshold = j.value("seed_threshold", p.threshold);  // optional: plain thresholding
  p.opening_mm = j.at("opening_mm");
  p.connectivity = j.at("connectivity");
  p.min_volume_ml = j.at("min_volume_ml");
  p.min_mean_probability = j.at("min_mean_probability");
  p.keep_relative_mass = j.at("keep_relative_mass");
  p.fill_holes = j.at("fill_holes");
  if (p.connectivity != 6 && p.connectivity != 18 && p.connectivity != 26)
    throw std::runtime_error("postprocess.connectivity must be 6, 18 or 26");
}

nlohmann::json Model::to_json() const {
  nlohmann::json j;
  j["schema_version"] = kModelSchemaVersion;
  j["kind"] = "lesionbench-baseline-model";
  j["method"] = method;
  j["provenance"] = provenance;
  j["features"] = features;
  j["context"] = context;
  j["candidate_hu"] = candidate_hu;
  if (method == "hu_window") j["hu_window"] = hu_window;
  if (method == "cnn" && cnn) j["cnn"] = cnn->to_json();
  j["postprocess"] = post;
  nlohmann::json st = nlohmann::json::array();
  for (const auto& s : stages) st.push_back(s.to_json());
  j["stages"] = st;
  return j;
}

Model Model::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("not a JSON object");
  if (!j.contains("schema_version")) throw std::runtime_error("no schema_version: not a lesionbench-baseline model");
  const auto& v = j.at("schema_version");
  const std::string version = v.is_string() ? v.get<std::string>() : v.dump();
  if (version.rfind("1.", 0) != 0)
    throw std::runtime_error("schema_version " + version + " is not supported (this build reads 1.x)");
  Model m;
  m.method = j.at("method");
  if (m.method != "classifier" && m.method != "hu_window" && m.method != "cnn")
    throw std::runtime_error("unknown method '" + m.method + "' (classifier, hu_window, cnn)");
  if (j.contains("provenance")) m.provenance = j["provenance"];
  m.features = j.at("features").get<FeatureSettings>();
  m.context = j.at("context").get<ContextSettings>();
  m.candidate_hu = j.at("candidate_hu").get<std::array<double, 2>>();
  if (m.method == "hu_window") m.hu_window = j.at("hu_window").get<std::array<double, 2>>();
  if (m.method == "cnn") m.cnn = std::make_shared<const cnn::CnnModel>(cnn::CnnModel::from_json(j.at("cnn")));
  m.post = j.at("postprocess").get<Postprocess>();
  for (const auto& s : j.at("stages")) m.stages.push_back(Classifier::from_json(s));
  if (m.method == "classifier" && (m.stages.empty() || m.stages.size() > 2))
    throw std::runtime_error("a classifier model needs 1 or 2 stages");
  return m;
}

Model Model::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open model " + path);
  try {
    return from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    throw std::runtime_error("model " + path + ": " + e.what());
  }
}

void Model::save(const std::string& path) const { write_text_atomic(path, to_json().dump() + "\n"); }

}  // namespace lb::baseline
