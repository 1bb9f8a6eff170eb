//! An index from document number to a `u32` (a serial, or a packed code)
//! that keeps no copy of the number: the owner's records already hold it,
//! and a national-scale index would otherwise pay 8 more bytes per entry
//! than the value it maps to.

use crate::identity::DocNumber;
use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

#[derive(Default)]
pub struct DocIndex {
    table: HashTable<u32>,
}

fn hash(number: DocNumber) -> u64 {
    FxBuildHasher.hash_one(number.0)
}

impl DocIndex {
    /// The value stored for `number`; `number_of` gives the document a stored
    /// value stands for.
    pub fn get(&self, number: DocNumber, number_of: impl Fn(u32) -> DocNumber) -> Option<u32> {
        self.table
            .find(hash(number), |&v| number_of(v) == number)
            .copied()
    }

    /// Stores `value` for `number` unless the number is already indexed;
    /// returns the value that is indexed afterwards (the first one wins).
    /// `number_of` must already resolve `value` to `number`.
    pub fn insert(
        &mut self,
        number: DocNumber,
        value: u32,
        number_of: impl Fn(u32) -> DocNumber,
    ) -> u32 {
        match self.table.entry(
            hash(number),
            |&v| number_of(v) == number,
            |&v| hash(number_of(v)),
        ) {
            Entry::Occupied(o) => *o.get(),
            Entry::Vacant(v) => {
                v.insert(value);
                value
            }
        }
    }

    /// Makes room for `additional` more entries at once, so a run that
    /// knows its population does not rehash while everyone registers.
    pub fn reserve(&mut self, additional: usize, number_of: impl Fn(u32) -> DocNumber) {
        self.table.reserve(additional, |&v| hash(number_of(v)));
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes the index holds on the heap (slots and control bytes).
    pub fn heap_bytes(&self) -> usize {
        self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_through_the_owners_records_and_the_first_value_wins() {
        let numbers: Vec<DocNumber> = (0..10_000u64)
            .map(|k| DocNumber(11010519800101000 + k * 7))
            .collect();
        let mut index = DocIndex::default();
        for (i, n) in numbers.iter().enumerate() {
            assert_eq!(
                index.insert(*n, i as u32, |v| numbers[v as usize]),
                i as u32
            );
        }
        assert_eq!(index.len(), numbers.len());
        // A second value for a known number is not stored.
        let mut twice = numbers.clone();
        twice.push(numbers[3]);
        assert_eq!(index.insert(numbers[3], 10_000, |v| twice[v as usize]), 3);
        for (i, n) in numbers.iter().enumerate() {
            assert_eq!(index.get(*n, |v| numbers[v as usize]), Some(i as u32));
        }
        assert_eq!(index.get(DocNumber(1), |v| numbers[v as usize]), None);
        assert!(index.heap_bytes() >= numbers.len() * 5);
        assert!(index.heap_bytes() < numbers.len() * 16);
    }
}
