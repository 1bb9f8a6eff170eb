//! What a baseline test can see: the smallest change of a metric's median
//! that K candidate seeds would detect, given the baseline's spread, so the
//! gate can say when a threshold is finer than the test.

use super::stats;

/// The chance of detecting a change of the stated size.
pub const POWER: f64 = 0.8;

/// The Mann–Whitney test's efficiency relative to the t-test for normal
/// samples (3/π): it needs about 5 % more seeds to see the same shift.
const RANK_TEST_EFFICIENCY: f64 = 3.0 / std::f64::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Detectable {
    /// The smallest relative change of the median detected with `POWER`.
    Change(f64),
    /// No difference between samples this small can reach the level.
    Never,
    /// The baseline's median is 0: a relative change is not defined.
    ZeroMedian,
    /// A value every baseline seed missed fails once it shows in this many
    /// candidate seeds (`stats::unseen_seeds_needed`).
    Seeds(usize),
}

/// The smallest relative shift of the median that a two-sided test at
/// `level` detects with probability `POWER`, for a baseline of `baseline`
/// and `candidates` candidate samples: the normal-theory shift
/// (z(1 − level/2) + z(power)) · s · √(1/n₁ + 1/n₂), widened by the rank
/// test's efficiency, over the baseline's median. `level` is the strictest
/// level Holm applies (α divided by the number of metrics tested).
pub fn detectable_change(baseline: &[f64], candidates: usize, level: f64) -> Detectable {
    let n1 = baseline.len();
    if n1 == 0 || candidates == 0 || stats::smallest_p(n1, candidates) > level {
        return Detectable::Never;
    }
    let median = stats::median(baseline).unwrap_or(0.0);
    if median == 0.0 {
        return Detectable::ZeroMedian;
    }
    let z = stats::normal_quantile(1.0 - level / 2.0) + stats::normal_quantile(POWER);
    let shift = z * stats::std_dev(baseline) * (1.0 / n1 as f64 + 1.0 / candidates as f64).sqrt()
        / RANK_TEST_EFFICIENCY.sqrt();
    Detectable::Change(shift / median.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_by_hand() {
        // Baseline 90, 100, 110: median 100, s = 10. With 3 candidates at
        // level 0.2: z(0.9) + z(0.8) = 1.281552 + 0.841621 = 2.123173;
        // × 10 × √(2/3) / √(3/π) = 2.123173 × 8.164966 / 0.977205
        // = 17.74 (17.74 % of the median). The exact test's smallest p with
        // 3 and 3 is 0.1 < 0.2, so it can be reached.
        let Detectable::Change(c) = detectable_change(&[90.0, 100.0, 110.0], 3, 0.2) else {
            panic!("detectable");
        };
        assert!((c - 0.177_400).abs() < 1e-5, "{c}");
        // At level 0.05 no ordering of 3 and 3 is significant (p ≥ 0.1).
        assert_eq!(
            detectable_change(&[90.0, 100.0, 110.0], 3, 0.05),
            Detectable::Never
        );
        assert_eq!(
            detectable_change(&[0.0, 0.0, 1.0, 0.0], 16, 0.01),
            Detectable::ZeroMedian
        );
        // More candidate seeds see smaller changes.
        let at = |k| match detectable_change(&[90.0, 100.0, 110.0, 95.0, 105.0], k, 0.01) {
            Detectable::Change(c) => c,
            other => panic!("{other:?}"),
        };
        assert!(
            at(32) < at(16) && at(16) < at(8),
            "{} {} {}",
            at(32),
            at(16),
            at(8)
        );
    }
}
