#!/usr/bin/python3
"""Reference values for tests/reports/test_ranking_methods.cpp, computed with Debian 12's scipy (python3-scipy).

Run:  /usr/bin/python3 tests/reports/reference/ranking_scipy.py > tests/reports/reference/ranking_scipy.out
The test holds these numbers; this script is how they were made, so anyone can make them again.

- One-sided paired Wilcoxon signed-rank p-values as challengeR's test-then-rank computes them in R,
  wilcox.test(x, y, paired=TRUE, alternative="greater", exact=FALSE, correct=TRUE), which is scipy's
  wilcoxon(x, y, alternative=..., method="approx", correction=True) with zero_method="wilcox" (zeros dropped)
  and the tie correction of the variance.
- Kendall's tau-b (scipy.stats.kendalltau's default variant, R's cor(method="kendall")).
- A whole test-then-rank table: every ordered pair of teams, p-values, Holm's adjustment as R's
  p.adjust(method="holm") over the ordered pairs of one metric, significant at p <= 0.05, and the ranks.
"""
import numpy as np
import scipy
from scipy.stats import kendalltau, wilcoxon

print("scipy", scipy.__version__, "numpy", np.__version__)


def w(x, y, alternative):
    r = wilcoxon(np.array(x, dtype=float), np.array(y, dtype=float), zero_method="wilcox", correction=True,
                 alternative=alternative, method="approx")
    return r.statistic, r.pvalue


EXAMPLES = {
    # DSC-like values with zeros (failed cases on both sides) and tied |d|.
    "dsc_zeros_ties": ([0.8, 0.7, 0.0, 0.9, 0.6, 0.5, 0.0, 0.75, 0.85, 0.65],
                       [0.7, 0.6, 0.0, 0.8, 0.7, 0.3, 0.0, 0.5, 0.85, 0.55]),
    # No tie, no zero: exactly R's normal approximation with correction.
    "untied": ([0.81, 0.72, 0.93, 0.55, 0.61, 0.88, 0.47, 0.99, 0.70, 0.66],
               [0.80, 0.74, 0.90, 0.51, 0.66, 0.82, 0.40, 0.91, 0.79, 0.56]),
    # Every |d| tied.
    "all_tied": ([2, 2, 2, 2, 2, 1], [1, 1, 1, 1, 1, 2]),
    # One nonzero difference.
    "one_pair": ([1, 5, 5], [0, 5, 5]),
    # Times in seconds (less is better: the "less" alternative).
    "times": ([30, 41, 28, 600, 35, 33, 29, 31], [45, 40, 50, 600, 60, 33, 44, 30]),
}
for name, (x, y) in EXAMPLES.items():
    for alt in ("greater", "less", "two-sided"):
        s, p = w(x, y, alt)
        print(f"wilcoxon {name} {alt} statistic={s!r} p={p!r}")

TAU = {
    "no_ties": ([1, 2, 3, 4, 5], [2, 1, 3, 5, 4]),
    "reversed": ([1, 2, 3, 4], [4, 3, 2, 1]),
    "ties_both": ([1, 2, 2, 4, 5, 5], [1, 3, 2, 2, 6, 5]),
    "places_shared": ([1, 2, 3, 4, 5], [1, 1, 3, 3, 5]),
}
for name, (x, y) in TAU.items():
    t = kendalltau(x, y)
    print(f"kendalltau {name} tau_b={t.statistic!r}")

# test-then-rank on one metric (higher is better), 4 teams x 12 cases.
teams = {
    "A": [0.90, 0.85, 0.80, 0.95, 0.70, 0.88, 0.92, 0.81, 0.77, 0.93, 0.86, 0.0],
    "B": [0.60, 0.55, 0.70, 0.65, 0.50, 0.62, 0.58, 0.61, 0.66, 0.59, 0.64, 0.0],
    "C": [0.61, 0.50, 0.72, 0.60, 0.55, 0.60, 0.57, 0.66, 0.62, 0.61, 0.69, 0.0],
    "D": [0.20, 0.10, 0.30, 0.25, 0.15, 0.22, 0.18, 0.21, 0.72, 0.24, 0.19, 0.0],
}
names = list(teams)
pairs = [(a, b) for a in names for b in names if a != b]
ps = [w(teams[a], teams[b], "greater")[1] for a, b in pairs]
m = len(ps)
order = np.argsort(ps, kind="stable")
holm = np.empty(m)
running = 0.0
for i, k in enumerate(order):  # R's p.adjust("holm"): pmin(1, cummax((m - i + 1) * p[o]))[ro]
    running = max(running, (m - i) * ps[k])
    holm[k] = min(1.0, running)
for adjust, values in (("none", ps), ("holm", list(holm))):
    wins = {a: 0 for a in names}
    for (a, b), p in zip(pairs, values):
        print(f"ttr {adjust} {a}>{b} p={values[pairs.index((a, b))]!r}")
        if p <= 0.05:
            wins[a] += 1
    ranks = {a: 1 + sum(wins[b] > wins[a] for b in names) for a in names}
    print(f"ttr {adjust} wins={wins} ranks={ranks}")
