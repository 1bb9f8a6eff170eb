//! Randomness. Every draw comes from the scenario seed: per-agent streams are
//! keyed by (seed, agent, tick, purpose), so an agent's choices do not depend
//! on which thread runs it or on what other agents drew.

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
    Pcg64Mcg::new(seeded_state(mix(
        seed ^ purpose.wrapping_mul(0x2545_f491_4f6c_dd1d),
        agent,
        moment,
    )))
}

/// The state `Pcg64Mcg::seed_from_u64(s)` starts from (rand_core's PCG32
/// expansion of `s` into four words), kept in registers: built as bytes
/// and read back as words, it stalled the load that followed and cost ~4 %
/// of a simulated day, since every day plan starts a generator.
fn seeded_state(mut s: u64) -> u128 {
    const MUL: u64 = 0x5851_F42D_4C95_7F2D;
    const INC: u64 = 0xA176_54E4_6FBE_17F3;
    let mut state = 0u128;
    for word in 0..4 {
        s = s.wrapping_mul(MUL).wrapping_add(INC);
        let xorshifted = (((s >> 18) ^ s) >> 27) as u32;
        state |= (xorshifted.rotate_right((s >> 59) as u32) as u128) << (32 * word);
    }
    state
}

/// Purposes, so that two decisions at the same moment use unrelated streams.
pub mod purpose {
    pub const DAY_PLAN: u64 = 1;
    pub const AUTHORITY: u64 = 2;
    pub const APPLY: u64 = 3;
    pub const HEALTH: u64 = 4;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn agent_streams_start_where_seed_from_u64_starts_them() {
        for i in 0..10_000u64 {
            let s = mix(i, i.wrapping_mul(0x9e37), 7) ^ (i << 40);
            let mut ours = Pcg64Mcg::new(seeded_state(s));
            let mut theirs = Pcg64Mcg::seed_from_u64(s);
            assert_eq!(ours.random::<u64>(), theirs.random::<u64>(), "seed {s}");
            assert_eq!(ours.random::<f64>(), theirs.random::<f64>(), "seed {s}");
        }
    }
}
