#pragma once
// Paired Wilcoxon signed-rank test as scipy.stats.wilcoxon(x, y, zero_method="wilcox", ...) computes it, which for
// the normal approximation with continuity correction is also R's wilcox.test(x, y, paired=TRUE, exact=FALSE,
// correct=TRUE):
//  - zero differences are dropped; the n nonzero differences are ranked by |d| (ties averaged); W+ and W- are the
//    rank sums of positive and negative d. The statistic is min(W+, W-) two-sided, W+ one-sided (as scipy).
//  - exact p-value (method auto only) when no difference was zero, n <= 50 and there are no tied |d|: the null
//    distribution of W+ (every sign pattern equally likely) by counting subsets of 1..n with a given sum;
//  - otherwise the normal approximation with the tie correction of the variance:
//    z = (T - n(n+1)/4 - c) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24), where c is the continuity correction
//    (0 without it; with it 0.5·sign(T - n(n+1)/4) two-sided, +0.5 greater, -0.5 less, as scipy and R);
//    p = 2·P(Z > |z|) two-sided, P(Z > z) greater, P(Z < z) less.
// One difference from scipy 1.10 (Debian 12), method auto only: with tied |d| but no zeros and n <= 50, scipy
// still takes its exact branch with W+ truncated to an integer, which is not a valid p-value for tied data (the
// exact null distribution assumes the ranks 1..n); we use the tie-corrected normal approximation there, which is
// what scipy's method="approx" and R's exact=FALSE give. With method normal every value equals scipy's.
#include <string>
#include <vector>

namespace lb {

enum class Alternative { two_sided, greater, less };  // greater: x tends to be larger than y

struct WilcoxonOptions {
  Alternative alternative = Alternative::two_sided;
  bool continuity_correction = false;  // scipy's correction=True, R's correct=TRUE
  bool normal_only = false;            // scipy's method="approx", R's exact=FALSE
};

struct WilcoxonResult {
  int n_pairs = 0;      // pairs given
  int n_nonzero = 0;    // pairs with a nonzero difference, the ones tested
  double statistic = 0; // min(W+, W-) two-sided, W+ one-sided
  double w_plus = 0, w_minus = 0;
  double z = 0;         // the normal approximation's z (0 for the exact test or no nonzero difference)
  double p_value = 1;   // 1 when no difference is nonzero (nothing changed)
  std::string method;   // "exact", "normal", or "none" (no nonzero difference)
};

// The normal approximation's p-value from rank sums already made (n nonzero differences, W+, W-, and the sum of
// t^3 - t over the tie groups of |d|): what wilcoxon_signed_rank computes after ranking, for callers that rank
// cheaper themselves (the bootstrap of test-then-rank). 1 when n = 0.
double wilcoxon_normal_p(int n_nonzero, double w_plus, double w_minus, double tie_term, const WilcoxonOptions& options,
                         double* z = nullptr);

// Differences are x[i] - y[i]; x and y must have the same length and finite values (std::invalid_argument).
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& x, const std::vector<double>& y,
                                    const WilcoxonOptions& options = {});

}  // namespace lb
