//! The fuzz targets' bodies on the stable toolchain: every shipped
//! scenario, rule set, policy case and bad-input file (the corpus) through
//! both parsers, then a bounded number of byte-level mutations of them
//! from a fixed seed.

#[path = "../../fuzz/bodies.rs"]
mod bodies;

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

fn toml_files(dir: PathBuf, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            toml_files(path, out);
        } else if path.extension().is_some_and(|x| x == "toml") {
            out.push(path);
        }
    }
}

/// Every TOML file under `scenarios/`, sorted.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        toml_files(super::root().join("scenarios"), &mut files);
        files.sort();
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    })
}

#[test]
fn the_shipped_corpus_goes_through_both_fuzz_bodies() {
    let corpus = corpus();
    // Scenarios, rule sets, cases and the bad-input files.
    assert!(corpus.len() > 50, "{}", corpus.len());
    for data in corpus {
        bodies::scenario_parser(data);
        bodies::rules_parser(data);
    }
}

/// One byte-level edit, as a fuzzer makes them.
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(data: &mut Vec<u8>, e: &Edit) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *e {
        Edit::Flip(i, b) if !data.is_empty() => {
            let i = at(i, data.len());
            data[i] ^= b;
        }
        Edit::Insert(i, b) => data.insert(at(i, data.len() + 1), b),
        Edit::Delete(i, n) => {
            let i = at(i, data.len() + 1);
            data.drain(i..(i + n).min(data.len()));
        }
        Edit::Duplicate(i, n) => {
            let i = at(i, data.len() + 1);
            let slice = data[i..(i + n).min(data.len())].to_vec();
            data.splice(i..i, slice);
        }
        Edit::Truncate(i) => data.truncate(at(i, data.len() + 1)),
        Edit::Flip(..) => {}
    }
}

proptest! {
    // A fixed seed and a bounded count: the same inputs on every run.
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20201001),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_corpus_inputs_never_panic_either_fuzz_body(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let corpus = corpus();
        let mut data = corpus[which.index(corpus.len())].clone();
        for e in &edits {
            apply(&mut data, e);
        }
        bodies::scenario_parser(&data);
        bodies::rules_parser(&data);
    }
}
