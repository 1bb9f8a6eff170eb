//! A violation and its reproducer: everything `hcsim replay` needs to run
//! the same history against a fresh platform.

use hcsim_platform::api::Request;
use hcsim_platform::Minute;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Who sent a request, so a replay can address the answer the same way.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "agent", content = "id", rename_all = "snake_case")]
pub enum Sender {
    Citizen(u32),
    Checkpoint,
    Authority,
    Telecom(u32),
}

/// One request of the history, with the answer the platform gave in the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the run's traffic: orders events of one tick.
    pub order: u64,
    /// When the request was delivered (tick time).
    pub now: Minute,
    pub sender: Sender,
    pub request: Request,
    /// The answer in the run, as JSON (for reading; a replay asks anew).
    pub response: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// `wrong_code`, `wrong_decision`, `wrong_explanation`, `registration`,
    /// `refused_color_admitted`, `recognition_more_lenient`,
    /// `unmasked_identity`, `streak_skipped_day`, `offline_expired_accepted`,
    /// `registration_lost`, `lost_record`.
    pub kind: String,
    pub seed: u64,
    pub scenario: String,
    /// The citizen concerned, when the breach concerns one.
    pub citizen: Option<u32>,
    /// Their home province (the issuer of their code).
    pub province: Option<String>,
    /// When it was seen, Beijing time.
    pub at: String,
    pub expected: String,
    pub actual: String,
    pub detail: String,
    /// Rule-set file per province key the history touches.
    pub rules: BTreeMap<String, String>,
    /// Every acknowledged fact about the citizen and every risk broadcast,
    /// in delivery order, ending with the request that disagreed.
    pub history: Vec<Event>,
}

impl Violation {
    pub fn load(path: &Path) -> anyhow::Result<Violation> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading violation {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}: not a violation file: {}",
                path.display(),
                e.line(),
                e
            )
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("violation serializes") + "\n"
    }
}

/// Writes `dir/violations/NNN.json`, removing files of an earlier run first
/// so the directory only ever describes this one.
pub fn write_all(dir: &Path, violations: &[Violation]) -> anyhow::Result<()> {
    use anyhow::Context;
    let vdir = dir.join("violations");
    if vdir.is_dir() {
        for e in std::fs::read_dir(&vdir)? {
            let p = e?.path();
            let stale = p.extension().is_some_and(|x| x == "json")
                && p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            if stale {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
    }
    if violations.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(&vdir).with_context(|| format!("creating {}", vdir.display()))?;
    for (i, v) in violations.iter().enumerate() {
        let p = vdir.join(format!("{:03}.json", i + 1));
        std::fs::write(&p, v.to_json()).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
