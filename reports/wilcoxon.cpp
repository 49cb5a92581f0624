// Paired Wilcoxon signed-rank test (see wilcoxon.h).
#include "reports/wilcoxon.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reports/ranking.h"

namespace lb {

namespace {

// Exact p-value for W+ = w_plus over n untied ranks 1..n: counts[s] = number of subsets of {1..n} summing to s
// (each sign pattern is equally likely under the null); two-sided p = 2 * min(P(W+ <= w), P(W+ >= w)),
// greater P(W+ >= w), less P(W+ <= w).
double exact_p(int n, int w_plus, Alternative alternative) {
  const int max_sum = n * (n + 1) / 2;
  std::vector<double> counts(static_cast<size_t>(max_sum) + 1, 0.0);
  counts[0] = 1;
  for (int k = 1; k <= n; ++k)
    for (int s = max_sum; s >= k; --s) counts[static_cast<size_t>(s)] += counts[static_cast<size_t>(s - k)];
  const double total = std::ldexp(1.0, n);
  double lower = 0, upper = 0;
  for (int s = 0; s <= w_plus; ++s) lower += counts[static_cast<size_t>(s)];
  for (int s = w_plus; s <= max_sum; ++s) upper += counts[static_cast<size_t>(s)];
  if (alternative == Alternative::greater) return upper / total;
  if (alternative == Alternative::less) return lower / total;
  if (2 * w_plus == max_sum) return 1.0;  // the centre of a symmetric distribution
  return std::min(1.0, 2.0 * std::min(lower, upper) / total);
}

}  // namespace

double wilcoxon_normal_p(int n_nonzero, double w_plus, double w_minus, double tie_term, const WilcoxonOptions& options,
                         double* z_out) {
  if (z_out) *z_out = 0;
  if (n_nonzero <= 0) return 1;
  const Alternative alt = options.alternative;
  const double statistic = alt == Alternative::two_sided ? std::min(w_plus, w_minus) : w_plus;
  const double nn = n_nonzero;
  const double mean = nn * (nn + 1) / 4;
  const double var = (nn * (nn + 1) * (2 * nn + 1) - tie_term / 2) / 24;
  if (!(var > 0)) return 1;
  double correction = 0;
  if (options.continuity_correction) {
    if (alt == Alternative::greater) correction = 0.5;
    else if (alt == Alternative::less) correction = -0.5;
    else correction = statistic > mean ? 0.5 : statistic < mean ? -0.5 : 0.0;
  }
  const double z = (statistic - mean - correction) / std::sqrt(var);
  if (z_out) *z_out = z;
  // Upper and lower tails of the standard normal; erfc keeps small p-values accurate.
  if (alt == Alternative::greater) return 0.5 * std::erfc(z / std::sqrt(2.0));
  if (alt == Alternative::less) return 0.5 * std::erfc(-z / std::sqrt(2.0));
  return std::min(1.0, std::erfc(std::fabs(z) / std::sqrt(2.0)));
}

WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y,
                                    const WilcoxonOptions& options) {
  if (x.size() != y.size()) throw std::invalid_argument("wilcoxon: x and y differ in length");
  WilcoxonResult r;
  r.n_pairs = static_cast<int>(x.size());
  std::vector<double> d;
  for (size_t i = 0; i < x.size(); ++i) {
    const double diff = x[i] - y[i];
    if (!std::isfinite(diff)) throw std::invalid_argument("wilcoxon: non-finite value");
    if (diff != 0) d.push_back(diff);
  }
  const bool had_zero = d.size() < x.size();
  const int n = static_cast<int>(d.size());
  r.n_nonzero = n;
  if (n == 0) {
    r.method = "none";
    return r;
  }
  std::vector<double> absd(d.size());
  for (size_t i = 0; i < d.size(); ++i) absd[i] = std::fabs(d[i]);
  const auto rank = average_ranks(absd, Direction::lower_is_better);
  for (size_t i = 0; i < d.size(); ++i) (d[i] > 0 ? r.w_plus : r.w_minus) += rank[i];
  const Alternative alt = options.alternative;
  r.statistic = alt == Alternative::two_sided ? std::min(r.w_plus, r.w_minus) : r.w_plus;

  // Tie groups of |d|, for the variance correction.
  std::vector<double> sorted = absd;
  std::sort(sorted.begin(), sorted.end());
  double tie_term = 0;
  bool ties = false;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    const double t = static_cast<double>(j - i);
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }

  if (!options.normal_only && !had_zero && !ties && n <= 50) {
    r.method = "exact";
    r.p_value = exact_p(n, static_cast<int>(std::lround(r.w_plus)), alt);
    return r;
  }
  r.method = "normal";
  r.p_value = wilcoxon_normal_p(n, r.w_plus, r.w_minus, tie_term, options, &r.z);
  return r;
}

}  // namespace lb
