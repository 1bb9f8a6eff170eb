//! Randomness. Every draw comes from the scenario seed: per-agent streams are
//! keyed by (seed, agent, tick, purpose), so an agent's choices do not depend
//! on which thread runs it or on what other agents drew.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// SplitMix64's finaliser: a portable, well-mixed hash of three words.
pub fn mix(a: u64, b: u64, c: u64) -> u64 {
    let mut z = a ^ b.rotate_left(21) ^ c.rotate_left(42) ^ 0x9e37_79b9_7f4a_7c15;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A hash as a uniform draw in [0, 1): its top 53 bits.
pub fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A generator for one agent at one moment, for one purpose.
pub fn agent_rng(seed: u64, agent: u64, moment: u64, purpose: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(mix(
        seed ^ purpose.wrapping_mul(0x2545_f491_4f6c_dd1d),
        agent,
        moment,
    ))
}

/// Purposes, so that two decisions at the same moment use unrelated streams.
pub mod purpose {
    pub const DAY_PLAN: u64 = 1;
    pub const AUTHORITY: u64 = 2;
    pub const APPLY: u64 = 3;
    pub const HEALTH: u64 = 4;
}
