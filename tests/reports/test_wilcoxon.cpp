// The paired Wilcoxon signed-rank test against scipy.stats.wilcoxon.
//
// Reference values computed once with Debian's Python (scipy 1.10.1, numpy 1.24.2):
//   /usr/bin/python3 -c "from scipy.stats import wilcoxon; print(wilcoxon(x, y))"          (default: two-sided,
//   zero_method='wilcox', method='auto')  and  wilcoxon(x, y, method='approx')  for the tied set C.
// The arrays are the ones below (y = x - d for set A, computed in double as here).
#include <catch2/catch.hpp>

#include "reports/wilcoxon.h"

using namespace lb;

TEST_CASE("wilcoxon: exact p-value without ties or zeros (scipy auto -> exact)") {
  // scipy: WilcoxonResult(statistic=16.0, pvalue=0.275390625)
  const std::vector<double> x = {0.81, 0.72, 0.93, 0.55, 0.61, 0.88, 0.47, 0.99, 0.70, 0.66};
  const std::vector<double> d = {0.01, -0.02, 0.03, 0.04, -0.05, 0.06, 0.07, 0.08, -0.09, 0.10};
  std::vector<double> y;
  for (size_t i = 0; i < x.size(); ++i) y.push_back(x[i] - d[i]);
  const WilcoxonResult r = wilcoxon_signed_rank(x, y);
  CHECK(r.method == "exact");
  CHECK(r.n_nonzero == 10);
  CHECK(r.statistic == 16.0);
  CHECK(r.p_value == Approx(0.275390625).epsilon(1e-12));
}

TEST_CASE("wilcoxon: scipy's documentation example (15 differences, exact)") {
  // scipy docs: wilcoxon(d) -> (24.0, 0.041259765625)
  const std::vector<double> d = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
  const WilcoxonResult r = wilcoxon_signed_rank(d, std::vector<double>(d.size(), 0.0));
  CHECK(r.statistic == 24.0);
  CHECK(r.p_value == Approx(0.041259765625).epsilon(1e-12));
}

TEST_CASE("wilcoxon: zero differences are dropped and the normal approximation used (scipy auto -> approx)") {
  // scipy: statistic=5.5, pvalue=0.07968802567429142 (4 zeros; the rest nearly tied but distinct in double)
  const std::vector<double> x = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.95, 0.85, 0.75};
  const std::vector<double> y = {0.9, 0.7, 0.7, 0.65, 0.3, 0.4, 0.1, 0.25, 0.1, 0.5, 0.8, 0.7};
  const WilcoxonResult r = wilcoxon_signed_rank(x, y);
  CHECK(r.method == "normal");
  CHECK(r.n_pairs == 12);
  CHECK(r.n_nonzero == 8);
  CHECK(r.statistic == 5.5);
  CHECK(r.p_value == Approx(0.07968802567429142).epsilon(1e-9));
}

TEST_CASE("wilcoxon: tied differences without zeros use the tie-corrected normal approximation") {
  // scipy method='approx': statistic=6.0, pvalue=0.08808151166219029.
  // (scipy's auto mode gives 0.109375 here from an exact table that does not hold for tied data.)
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<double> y = {0, 3, 1, 6, 3, 4, 4, 5};
  const WilcoxonResult r = wilcoxon_signed_rank(x, y);
  CHECK(r.method == "normal");
  CHECK(r.statistic == 6.0);
  CHECK(r.p_value == Approx(0.08808151166219029).epsilon(1e-9));
}

TEST_CASE("wilcoxon: more than 50 pairs use the normal approximation") {
  // numpy.random.default_rng(7): x ~ U(0.3, 0.95), y = x - N(0.01, 0.03), both rounded to 6 decimals.
  // scipy: statistic=625.0, pvalue=0.03277204956016548
  const std::vector<double> x = {
      0.706312, 0.883189, 0.804196, 0.446385, 0.495108, 0.86781,  0.303422, 0.833798, 0.818095, 0.604158,
      0.496971, 0.480977, 0.465665, 0.5893,   0.627956, 0.659773, 0.947075, 0.81523,  0.704416, 0.942824,
      0.439951, 0.404138, 0.698151, 0.328562, 0.323192, 0.634678, 0.603034, 0.896159, 0.708997, 0.634176,
      0.622968, 0.460885, 0.307666, 0.425061, 0.749821, 0.430394, 0.540199, 0.302427, 0.839531, 0.4004,
      0.47394,  0.872216, 0.631364, 0.850648, 0.715816, 0.782151, 0.359472, 0.651743, 0.630052, 0.866371,
      0.534822, 0.68882,  0.338514, 0.551961, 0.509974, 0.39763,  0.83062,  0.54664,  0.936186, 0.683495};
  const std::vector<double> y = {
      0.716582, 0.867095, 0.808095, 0.432567, 0.520724, 0.875189, 0.299308, 0.796835, 0.773738, 0.633864,
      0.51081,  0.45157,  0.515438, 0.593195, 0.620875, 0.612063, 0.916393, 0.815046, 0.705473, 0.94033,
      0.384245, 0.406979, 0.697261, 0.307984, 0.316815, 0.630597, 0.626456, 0.886505, 0.712304, 0.589192,
      0.593375, 0.451609, 0.277615, 0.425257, 0.708257, 0.420556, 0.512698, 0.331154, 0.819131, 0.441046,
      0.525,    0.87135,  0.648362, 0.835726, 0.638473, 0.797103, 0.36819,  0.635581, 0.605262, 0.861663,
      0.531,    0.657746, 0.312917, 0.572971, 0.502349, 0.386571, 0.852255, 0.528845, 0.951925, 0.644333};
  const WilcoxonResult r = wilcoxon_signed_rank(x, y);
  CHECK(r.method == "normal");
  CHECK(r.statistic == 625.0);
  CHECK(r.p_value == Approx(0.03277204956016548).epsilon(1e-9));
}

TEST_CASE("wilcoxon: nothing changed gives p = 1, and bad input is refused") {
  const std::vector<double> x = {0.5, 0.6, 0.7};
  const WilcoxonResult r = wilcoxon_signed_rank(x, x);
  CHECK(r.method == "none");
  CHECK(r.p_value == 1.0);
  CHECK_THROWS_AS(wilcoxon_signed_rank({1, 2}, {1}), std::invalid_argument);
  // Swapping x and y keeps the two-sided p-value.
  const std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {1.5, 1, 2.25, 4.75, 3, 8.5};
  CHECK(wilcoxon_signed_rank(a, b).p_value == Approx(wilcoxon_signed_rank(b, a).p_value));
}
