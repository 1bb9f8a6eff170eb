//! An index from document number to a `u32` (a serial, or a packed code)
//! that keeps no copy of the number: the owner's records already hold it,
//! and a national-scale index would otherwise pay 8 more bytes per entry
//! than the value it maps to.

use crate::identity::DocNumber;
use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

/// Buckets per shard of a reserved index. A hash table's bucket count is a
/// power of two, so one table sized for n entries wastes up to half its
/// slots; many equal shards of 2^16 buckets, as many as n needs, keep the
/// load near the table's maximum whatever n is.
const SHARD_BUCKETS: usize = 1 << 16;
/// Entries a shard holds before it must grow (7/8 of its buckets).
const SHARD_CAPACITY: usize = SHARD_BUCKETS / 8 * 7;
/// Entries planned per shard: 3% under capacity leaves more than four
/// standard deviations of the binomial spread between shards, so a shard
/// rarely doubles (which costs memory, never correctness).
const SHARD_PLANNED: usize = SHARD_CAPACITY / 100 * 97;

pub struct DocIndex {
    shards: Vec<HashTable<u32>>,
}

impl Default for DocIndex {
    fn default() -> DocIndex {
        DocIndex {
            shards: vec![HashTable::new()],
        }
    }
}

fn hash(number: DocNumber) -> u64 {
    FxBuildHasher.hash_one(number.0)
}

fn insert_into(
    table: &mut HashTable<u32>,
    number: DocNumber,
    value: u32,
    number_of: &impl Fn(u32) -> DocNumber,
) -> u32 {
    match table.entry(
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

impl DocIndex {
    /// The shard of `number`: a multiply-shift of its own, so the bits that
    /// pick the shard are not the ones the shard's table uses.
    fn shard(&self, number: DocNumber) -> usize {
        let mixed = number.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        ((mixed * self.shards.len() as u64) >> 32) as usize
    }

    /// The value stored for `number`; `number_of` gives the document a stored
    /// value stands for.
    pub fn get(&self, number: DocNumber, number_of: impl Fn(u32) -> DocNumber) -> Option<u32> {
        self.shards[self.shard(number)]
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
        let shard = self.shard(number);
        insert_into(&mut self.shards[shard], number, value, &number_of)
    }

    /// `insert` of every entry in order, each shard's entries on `pool`
    /// beside the others': shards share nothing, and within a shard the
    /// entries keep their order, so the first of a document still wins.
    pub fn insert_all(
        &mut self,
        entries: &[(DocNumber, u32)],
        number_of: impl Fn(u32) -> DocNumber + Sync,
        pool: Option<&rayon::ThreadPool>,
    ) {
        let pool = match pool {
            Some(pool) if self.shards.len() > 1 => pool,
            _ => {
                for &(number, value) in entries {
                    self.insert(number, value, &number_of);
                }
                return;
            }
        };
        let mut per_shard: Vec<Vec<(DocNumber, u32)>> = vec![Vec::new(); self.shards.len()];
        for &(number, value) in entries {
            per_shard[self.shard(number)].push((number, value));
        }
        pool.install(|| {
            use rayon::prelude::*;
            self.shards
                .par_iter_mut()
                .zip(per_shard)
                .for_each(|(table, entries)| {
                    for (number, value) in entries {
                        insert_into(table, number, value, &number_of);
                    }
                })
        });
    }

    /// Makes room for `additional` more entries at once, so a run that
    /// knows its population does not rehash while everyone registers. A
    /// large index is spread over shards sized to it.
    pub fn reserve(&mut self, additional: usize, number_of: impl Fn(u32) -> DocNumber) {
        let total = self.len() + additional;
        let shards = total.div_ceil(SHARD_PLANNED);
        if shards <= self.shards.len() {
            if let [only] = self.shards.as_mut_slice() {
                only.reserve(additional, |&v| hash(number_of(v)));
            }
            return;
        }
        let old = std::mem::replace(
            &mut self.shards,
            (0..shards)
                .map(|_| HashTable::with_capacity(SHARD_CAPACITY))
                .collect(),
        );
        for v in old.into_iter().flatten() {
            let number = number_of(v);
            let shard = self.shard(number);
            self.shards[shard].insert_unique(hash(number), v, |&v| hash(number_of(v)));
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(HashTable::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(HashTable::is_empty)
    }

    /// Bytes the index holds on the heap (slots and control bytes).
    pub fn heap_bytes(&self) -> usize {
        self.shards.iter().map(HashTable::allocation_size).sum()
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

    #[test]
    fn a_reserved_index_is_sharded_near_full_and_keeps_what_it_held() {
        // Ten shards' worth: the last shard is full too.
        let numbers: Vec<DocNumber> = (0..SHARD_PLANNED as u64 * 10)
            .map(|k| DocNumber(11010519800101000 + k * 13))
            .collect();
        let of = |v: u32| numbers[v as usize];
        let mut index = DocIndex::default();
        // Entries from before the reservation move into the shards.
        for i in 0..1000u32 {
            index.insert(numbers[i as usize], i, of);
        }
        index.reserve(numbers.len() - 1000, of);
        assert_eq!(index.shards.len(), 10);
        let reserved = index.heap_bytes();
        for (i, n) in numbers.iter().enumerate() {
            assert_eq!(index.insert(*n, i as u32, of), i as u32);
        }
        assert_eq!(index.len(), numbers.len());
        assert_eq!(index.heap_bytes(), reserved, "no shard grew");
        // 4-byte slots and a control byte each, at more than 80% load.
        assert!(index.heap_bytes() < numbers.len() * 5 * 100 / 80);
        for (i, n) in numbers.iter().enumerate() {
            assert_eq!(index.get(*n, of), Some(i as u32));
        }
        assert_eq!(index.get(DocNumber(7), of), None);
        // A full shard grows on its own.
        let more: Vec<DocNumber> = (0..200_000u64).map(|k| DocNumber(k * 3 + 1)).collect();
        let all: Vec<DocNumber> = numbers.iter().chain(&more).copied().collect();
        let of_all = |v: u32| all[v as usize];
        for (i, n) in all.iter().enumerate().skip(numbers.len()) {
            assert_eq!(index.insert(*n, i as u32, of_all), i as u32);
        }
        for (i, n) in all.iter().enumerate() {
            assert_eq!(index.get(*n, of_all), Some(i as u32));
        }
    }

    /// The pool changes who does the work, never the result: values stored
    /// for numbers seen twice in a batch are the first of the batch's.
    #[test]
    fn inserting_a_batch_on_the_pool_equals_inserting_it_in_order() {
        let numbers: Vec<DocNumber> = (0..SHARD_PLANNED as u64 * 3)
            .map(|k| DocNumber(11010519800101000 + (k % 150_000) * 17))
            .collect();
        let of = |v: u32| numbers[v as usize];
        let entries: Vec<(DocNumber, u32)> = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let mut in_order = DocIndex::default();
        let mut batched = DocIndex::default();
        for index in [&mut in_order, &mut batched] {
            index.reserve(numbers.len(), of);
        }
        assert!(batched.shards.len() > 1);
        for &(n, v) in &entries {
            in_order.insert(n, v, of);
        }
        batched.insert_all(&entries, of, Some(&pool));
        assert_eq!(batched.len(), 150_000);
        assert_eq!(batched.len(), in_order.len());
        for n in &numbers {
            let first = batched.get(*n, of);
            assert_eq!(first, in_order.get(*n, of));
            assert!(first.unwrap() < 150_000, "the first value wins");
        }
    }
}
