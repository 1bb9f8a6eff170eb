//! Citizens and their households, generated from census-scaled county
//! populations. Each county is generated from its own random stream, so
//! counties can be generated in parallel and the result never depends on the
//! thread count.

use crate::scenario::Behaviour;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a citizen does on a weekday.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Occupation {
    None = 0,
    Office = 1,
    Factory = 2,
    BuildingSite = 3,
    School = 4,
}

/// A citizen's immutable attributes: 8 bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Global id of the household's first member; members are contiguous.
    pub household: u32,
    pub county: u16,
    pub age: u8,
    /// Bits 0..4: household size; bit 4: smartphone; bits 5..8: occupation.
    bits: u8,
}

impl Person {
    pub fn new(
        household: u32,
        county: u16,
        age: u8,
        household_len: u8,
        smartphone: bool,
        occupation: Occupation,
    ) -> Person {
        let bits = household_len.min(15) | (u8::from(smartphone) << 4) | ((occupation as u8) << 5);
        Person {
            household,
            county,
            age,
            bits,
        }
    }
    pub fn household_len(&self) -> u8 {
        self.bits & 0x0f
    }
    pub fn smartphone(&self) -> bool {
        self.bits & 0x10 != 0
    }
    pub fn occupation(&self) -> Occupation {
        match self.bits >> 5 {
            1 => Occupation::Office,
            2 => Occupation::Factory,
            3 => Occupation::BuildingSite,
            4 => Occupation::School,
            _ => Occupation::None,
        }
    }
    pub fn household_members(&self) -> std::ops::Range<u32> {
        self.household..self.household + self.household_len() as u32
    }
}

/// Generates a county's people, ids starting at `first_id`.
pub fn generate_county(
    seed: u64,
    county: u32,
    population: u32,
    first_id: u32,
    behaviour: &Behaviour,
) -> Vec<Person> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5045_4f50_4c45); // "PEOPLE"
    rng.set_stream(county as u64);
    let mut people = Vec::with_capacity(population as usize);
    while people.len() < population as usize {
        let ages = household_ages(&mut rng);
        let room = population as usize - people.len();
        let ages = &ages[..ages.len().min(room)];
        let household = first_id + people.len() as u32;
        for &age in ages {
            let smartphone = rng.random_bool(match age {
                65.. => behaviour.smartphone_elderly,
                0..=12 => behaviour.smartphone_child,
                13..=17 => 0.8,
                _ => 0.97,
            });
            let occupation = match age {
                6..=17 => Occupation::School,
                18..=60 if rng.random_bool(behaviour.employed) => match rng.random_range(0..100u32)
                {
                    0..50 => Occupation::Office,
                    50..85 => Occupation::Factory,
                    _ => Occupation::BuildingSite,
                },
                _ => Occupation::None,
            };
            people.push(Person::new(
                household,
                county as u16,
                age,
                ages.len() as u8,
                smartphone,
                occupation,
            ));
        }
    }
    people
}

/// Household compositions roughly following the 2020 census (average size ~2.6).
fn household_ages(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let adult = |rng: &mut ChaCha8Rng| rng.random_range(22..=60u8);
    let mut ages = Vec::with_capacity(6);
    match rng.random_range(0..100u32) {
        0..25 => ages.push(adult(rng)),
        25..45 => {
            let a = rng.random_range(25..=70u8);
            ages.extend([a, a.saturating_sub(rng.random_range(0..=4)).max(22)]);
        }
        45..78 => {
            let a = rng.random_range(26..=50u8);
            ages.extend([a, a.saturating_sub(rng.random_range(0..=3)).max(22)]);
            for _ in 0..rng.random_range(1..=2u8) {
                ages.push(rng.random_range(0..=(a - 22).min(17)));
            }
        }
        78..90 => {
            let a = rng.random_range(28..=45u8);
            ages.extend([a, a, rng.random_range(0..=(a - 22).min(17))]);
            ages.extend((0..rng.random_range(1..=2u8)).map(|_| a + rng.random_range(25..=32u8)));
        }
        _ => {
            let a = rng.random_range(65..=90u8);
            ages.push(a);
            if rng.random_bool(0.6) {
                ages.push(a.saturating_sub(rng.random_range(0..=5)).max(62));
            }
        }
    }
    ages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_population_is_exact_and_households_are_contiguous() {
        let people = generate_county(1, 3, 1000, 500, &Behaviour::default());
        assert_eq!(people.len(), 1000);
        for (i, p) in people.iter().enumerate() {
            let id = 500 + i as u32;
            assert!(p.household_members().contains(&id));
            assert!(p.household_members().end <= 1500);
        }
        let mean_size = 1000.0
            / people
                .iter()
                .filter(|p| {
                    p.household
                        == 500 + people.iter().position(|q| std::ptr::eq(q, *p)).unwrap() as u32
                })
                .count() as f64;
        assert!((1.8..3.5).contains(&mean_size), "{mean_size}");
        assert_eq!(
            people,
            generate_county(1, 3, 1000, 500, &Behaviour::default())
        );
    }
}
