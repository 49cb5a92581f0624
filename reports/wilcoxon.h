#pragma once
// Paired Wilcoxon signed-rank test, two-sided, as scipy.stats.wilcoxon(x, y) computes it by default
// (zero_method="wilcox": zero differences are dropped; no continuity correction):
//  - n nonzero differences ranked by |d| (ties averaged); W+ and W- the rank sums of positive and negative d;
//    statistic = min(W+, W-).
//  - exact p-value when no difference was zero, n <= 50 and there are no tied |d|: the null distribution of W+
//    (every sign pattern equally likely) by counting subsets of 1..n with a given sum;
//  - otherwise the normal approximation with the tie correction of the variance:
//    z = (T - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24), p = 2 * P(Z > |z|).
// One difference from scipy 1.10: with tied |d| but no zeros and n <= 50, scipy still takes the exact branch
// with W+ truncated to an integer, which is not a valid p-value for tied data; we use the tie-corrected
// normal approximation there (what scipy gives with method="approx").
#include <string>
#include <vector>

namespace lb {

struct WilcoxonResult {
  int n_pairs = 0;      // pairs given
  int n_nonzero = 0;    // pairs with a nonzero difference, the ones tested
  double statistic = 0; // min(W+, W-)
  double w_plus = 0, w_minus = 0;
  double p_value = 1;   // 1 when no difference is nonzero (nothing changed)
  std::string method;   // "exact", "normal", or "none" (no nonzero difference)
};

// Differences are x[i] - y[i]; x and y must have the same length.
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace lb
