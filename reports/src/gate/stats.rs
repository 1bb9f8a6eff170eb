//! The gate's statistics: the Mann–Whitney U rank test between a baseline's
//! samples and a candidate's, the exact test of a value the baseline never
//! showed (`unseen_p`), Holm's step-down correction across the metrics a
//! gate tests, and the sample summaries its tables show.
//!
//! A rank test because run metrics are not normal (latency percentiles,
//! counts of rare events) and a handful of extreme seeds must not decide a
//! verdict. p-values are two-sided, as R's `wilcox.test` computes them:
//! exact (the null distribution of U, counted) when both samples are
//! smaller than 50 and have no ties, otherwise the normal approximation
//! with the tie correction and a continuity correction.

/// Both samples below this size and no ties: the exact distribution.
pub const EXACT_BELOW: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Exact,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MannWhitney {
    /// U of the first sample: the pairs (a, b) with a > b, ties counting ½.
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub method: Method,
}

/// The two-sided Mann–Whitney U test of `a` against `b`. `None` when either
/// sample is empty or holds a value that is not finite.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|v| !v.is_finite()) {
        return None;
    }
    let (n1, n2) = (a.len(), b.len());
    let (ranks, ties) = ranks(a.iter().chain(b).copied().collect());
    let r1: f64 = ranks[..n1].iter().sum();
    let u = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let (m1, m2) = (n1 as f64, n2 as f64);
    if n1 < EXACT_BELOW && n2 < EXACT_BELOW && ties.is_empty() {
        // Without ties U is a whole number.
        let counts = u_counts(n1, n2);
        let total: i128 = counts.iter().sum();
        let u = u.round() as usize;
        let below: i128 = counts[..=u].iter().sum();
        let above: i128 = counts[u..].iter().sum();
        let p = (2.0 * below.min(above) as f64 / total as f64).min(1.0);
        return Some(MannWhitney {
            u: u as f64,
            p,
            method: Method::Exact,
        });
    }
    let n = m1 + m2;
    let tie_term: f64 = ties.iter().map(|&t| t.powi(3) - t).sum::<f64>() / (n * (n - 1.0));
    let variance = m1 * m2 / 12.0 * ((n + 1.0) - tie_term);
    let p = if variance <= 0.0 {
        // Every value tied: the samples cannot be told apart.
        1.0
    } else {
        let z = ((u - m1 * m2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
        two_sided_normal(z)
    };
    Some(MannWhitney {
        u,
        p: p.min(1.0),
        method: Method::Normal,
    })
}

/// A value none of the baseline's `n` seeds showed, shown by `x` of the
/// candidate's `k`: the chance of that if nothing changed. Unchanged, all
/// n + k seeds are exchangeable draws, so the x seeds that show the value
/// are any x of them, and all x falling among the candidate's k has
/// probability C(k, x) / C(n + k, x) = ∏_{i<x} (k − i) / (n + k − i):
/// the one-sided p-value of Fisher's exact test of the 2 × 2 table
/// (0 of n, x of k). Exact whatever the value's true rate, unlike a bound
/// on that rate (the rule of three: 0 of n puts it below 3/n at 95 %).
/// 1 when x = 0.
pub fn unseen_p(n: usize, k: usize, x: usize) -> f64 {
    if x > k {
        return 0.0;
    }
    (0..x)
        .map(|i| (k - i) as f64 / (n + k - i) as f64)
        .product()
}

/// The fewest of `k` candidate seeds that must show a value none of the
/// baseline's `n` showed for `unseen_p` to reach `level`; `None` when even
/// all `k` cannot.
pub fn unseen_seeds_needed(n: usize, k: usize, level: f64) -> Option<usize> {
    (1..=k).find(|&x| unseen_p(n, k, x) <= level)
}

/// Mid-ranks (1-based) of `values` in their original order, and the size of
/// every group of tied values.
fn ranks(values: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; each gets their mean.
        let mid = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = mid;
        }
        if end - start > 1 {
            ties.push((end - start) as f64);
        }
        start = end;
    }
    (ranks, ties)
}

/// How many of the C(n1 + n2, n1) orderings of two untied samples give each
/// U = 0 ..= n1·n2: the coefficients of the Gaussian binomial
/// [n1 + n2 choose n1]_q = ∏_{i=1..n1} (1 − q^(n2+i)) / (1 − q^i).
/// Exact in i128 while C(n1 + n2, n1) fits, which `EXACT_BELOW` ensures.
fn u_counts(n1: usize, n2: usize) -> Vec<i128> {
    let mut c = vec![0i128; n1 * n2 + 1];
    c[0] = 1;
    for i in 1..=n1 {
        // × (1 − q^(n2+i)), from the top so each step reads old values.
        let k = n2 + i;
        for j in (k..c.len()).rev() {
            c[j] -= c[j - k];
        }
        // ÷ (1 − q^i): a running sum with stride i.
        for j in i..c.len() {
            c[j] += c[j - i];
        }
    }
    c
}

/// P(|Z| ≥ z) for a standard normal Z.
pub fn two_sided_normal(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// The standard normal quantile: z with P(Z ≤ z) = `p`, for 0 < p < 1, by
/// bisection on `erfc` (accurate to 1e-12, and only used for power).
pub fn normal_quantile(p: f64) -> f64 {
    let cdf = |z: f64| 0.5 * libm::erfc(-z / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    (lo + hi) / 2.0
}

/// Holm's step-down adjusted p-values, in the order given: the i-th smallest
/// p is multiplied by (m − i + 1), and the products are made non-decreasing.
/// A test is significant at family-wise level α exactly when its adjusted p
/// is ≤ α.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The sample standard deviation (n − 1); 0 for fewer than two values.
pub fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// The smallest two-sided p-value the exact test can reach with samples of
/// `n1` and `n2`: 2 / C(n1 + n2, n1). Below the level a test needs, no
/// change of any size can be significant.
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    // ln C(n, k) summed term by term: no overflow at any size.
    let k = n1.min(n2);
    let ln_c: f64 = (0..k)
        .map(|i| (((n1 + n2 - i) as f64) / ((i + 1) as f64)).ln())
        .sum();
    (2.0 * (-ln_c).exp()).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn u_counts_are_the_gaussian_binomial() {
        // m = n = 3: the 20 orderings by U, counted by hand.
        assert_eq!(u_counts(3, 3), vec![1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
        // m = 2, n = 2: C(4, 2) = 6 orderings: U = 0,1,2,2,3,4.
        assert_eq!(u_counts(2, 2), vec![1, 1, 2, 1, 1]);
        let c = u_counts(49, 49);
        let total: i128 = c.iter().sum();
        // C(98, 49), exactly.
        assert_eq!(total, 25_477_612_258_980_856_902_730_428_600);
    }

    #[test]
    fn exact_p_values_computed_by_hand() {
        // Complete separation, 3 and 3: P(U = 0) = 1/20, two-sided 0.1.
        let t = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!((t.u, t.method), (0.0, Method::Exact));
        close(t.p, 0.1, 1e-15);
        // Interleaved: a beats b in the pairs (3,2), (5,2), (5,4): U = 3;
        // P(U ≤ 3) = (1 + 1 + 2 + 3) / 20 = 7/20, two-sided 0.7 (R gives
        // W = 3, p-value = 0.7).
        let t = mann_whitney(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0]).unwrap();
        assert_eq!(t.u, 3.0);
        close(t.p, 0.7, 1e-15);
        // 4 against 5, separated: 2 / C(9, 4) = 2/126.
        let t = mann_whitney(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0, 9.0]).unwrap();
        close(t.p, 2.0 / 126.0, 1e-15);
        // The test is symmetric in its samples.
        let back = mann_whitney(&[5.0, 6.0, 7.0, 8.0, 9.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(back.u, 20.0);
        close(back.p, t.p, 1e-15);
        close(smallest_p(4, 5), 2.0 / 126.0, 1e-15);
    }

    #[test]
    fn normal_approximation_with_ties_computed_by_hand() {
        // a = [1, 2, 2, 3], b = [2, 3, 4, 5]. Sorted: 1 2 2 2 3 3 4 5;
        // mid-ranks 1, 3, 3, 3, 5.5, 5.5, 7, 8. R1 = 1 + 3 + 3 + 5.5 = 12.5,
        // U = 12.5 − 10 = 2.5. Ties: a group of 3 and one of 2, so
        // Σ(t³ − t) = 24 + 6 = 30; var = 16/12 × (9 − 30/56) = 11.2857…;
        // z = (|2.5 − 8| − 0.5) / √11.2857 = 1.48835…; p = 2(1 − Φ(z)) =
        // 0.13666… (R: wilcox.test(..., exact = FALSE, correct = TRUE)).
        let t = mann_whitney(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((t.u, t.method), (2.5, Method::Normal));
        let variance: f64 = 16.0 / 12.0 * (9.0 - 30.0 / 56.0);
        let z = 5.0 / variance.sqrt();
        close(z, 1.488_35, 1e-5);
        close(t.p, 0.136_66, 1e-5);
        // Every value the same: nothing to tell apart.
        let t = mann_whitney(&[4.0, 4.0], &[4.0, 4.0, 4.0]).unwrap();
        assert_eq!(t.p, 1.0);
        assert!(mann_whitney(&[], &[1.0]).is_none());
        assert!(mann_whitney(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn large_untied_samples_use_the_normal_approximation() {
        // 60 against 60 with a shift of 20 ranks: U = 60·60 − … checked
        // against the formula written out: no ties, so var = n1 n2 (n+1)/12.
        let a: Vec<f64> = (0..60).map(f64::from).collect();
        let b: Vec<f64> = (20..80).map(|v| f64::from(v) + 0.5).collect();
        let t = mann_whitney(&a, &b).unwrap();
        assert_eq!(t.method, Method::Normal);
        // a's values 20..59 each beat the b values below them: Σ_{k=0}^{39} k.
        assert_eq!(t.u, (0..40).sum::<i32>() as f64);
        let var = 60.0 * 60.0 * 121.0 / 12.0;
        let z = ((t.u - 1800.0).abs() - 0.5) / f64::sqrt(var);
        close(t.p, libm::erfc(z / std::f64::consts::SQRT_2), 1e-15);
        assert!(t.p < 1e-6, "{}", t.p);
    }

    #[test]
    fn unseen_values_by_hand() {
        // 64 baseline seeds all 0, one of 16 candidates shows 1: the one
        // differing seed of 80 is among the 16 with chance 16/80.
        close(unseen_p(64, 16, 1), 0.2, 1e-15);
        // Two of 16: (16 × 15) / (80 × 79) = 240 / 6320.
        close(unseen_p(64, 16, 2), 240.0 / 6320.0, 1e-15);
        // All 3 of 3 against 2: 1 / C(5, 3) = 0.1, as Fisher's table
        // (0 of 2, 3 of 3) gives (R: fisher.test(matrix(c(0, 2, 3, 0), 2),
        // alternative = "greater")$p.value = 0.1).
        close(unseen_p(2, 3, 3), 0.1, 1e-15);
        assert_eq!(unseen_p(64, 16, 0), 1.0);
        // 5 of 16 is the fewest below 0.01 / 30: (16·15·14·13·12) /
        // (80·79·78·77·76) = 524160 / 2884801920 = 1.82e-4; 4 of 16 gives
        // 43680 / 37957920 = 1.15e-3.
        close(unseen_p(64, 16, 5), 524_160.0 / 2_884_801_920.0, 1e-18);
        assert_eq!(unseen_seeds_needed(64, 16, 0.01 / 30.0), Some(5));
        // One candidate seed against 64 never reaches 1 %: 1/65.
        assert_eq!(unseen_seeds_needed(64, 1, 0.01), None);
    }

    #[test]
    fn holm_adjusts_step_down() {
        // Sorted 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 = 0.02, 0.03, 0.06,
        // 0.04 → made monotone: 0.02, 0.03, 0.06, 0.06.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (a, e) in adj.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            close(*a, e, 1e-15);
        }
        assert_eq!(holm(&[0.6, 0.9]), vec![1.0, 1.0]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn normal_quantiles_and_tails() {
        close(normal_quantile(0.975), 1.959_964, 1e-6);
        close(normal_quantile(0.8), 0.841_621, 1e-6);
        close(normal_quantile(0.5), 0.0, 1e-9);
        close(two_sided_normal(1.959_964), 0.05, 1e-6);
    }

    #[test]
    fn sample_summaries() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        // Values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(v − 5)² = 32, s² = 32/7.
        close(
            std_dev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            (32.0f64 / 7.0).sqrt(),
            1e-15,
        );
        assert_eq!(std_dev(&[1.0]), 0.0);
    }
}
