//! What every process of a run must share: the same build of hcsim and the
//! same scenario and rule files. Records between processes are a compact
//! encoding that only the same build reads back, and a process given other
//! files would simulate another country; either would make `summary.json`
//! wrong without a word. Process 0 sends its fingerprint with the first
//! tick's deliveries, and every other process compares it with its own
//! before it acts on them.

use crate::scenario::Scenario;
use std::path::PathBuf;

/// The build and the files of a run, as one number. Files are read by
/// content (their paths may differ between machines); one that cannot be
/// read counts as empty, as the run itself would have refused it.
pub fn of(scenario: &Scenario) -> u64 {
    let mut h = blake3::Hasher::new();
    match std::env::current_exe().and_then(std::fs::read) {
        Ok(binary) => h.update(&binary),
        Err(_) => h.update(env!("CARGO_PKG_VERSION").as_bytes()),
    };
    let rules =
        crate::platform_setup::rule_files(Some(scenario), &crate::run::default_rules_dir(scenario))
            .unwrap_or_default();
    let mut files: Vec<PathBuf> = vec![scenario.path.clone()];
    files.extend(rules);
    for file in files {
        let bytes = std::fs::read(&file).unwrap_or_default();
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// Ends this process: process 0 runs another build or other files. The
/// run cannot go on without it, and process 0 ends the run when it loses
/// the connection (naming this process); this message says why.
pub fn refuse(process: u32, theirs: u64, ours: u64) -> ! {
    eprintln!(
        "error: process {process}: process 0 runs another build of hcsim or another scenario \
         or rule files (fingerprint {theirs:016x}, here {ours:016x}); start every process of \
         the run from the same binary, scenario file and rules"
    );
    std::process::exit(2)
}
