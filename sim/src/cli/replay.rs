//! `hcsim replay VIOLATION.json`: re-runs one violation's history against a
//! fresh platform and oracle and shows where they diverge.

use crate::cli::exit;
use crate::oracle::replay::{load_rules, replay};
use crate::oracle::violation::{Sender, Violation};
use hcsim_platform::api::{Request, Response};
use hcsim_platform::{Minute, ProvinceId};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A violation file written by a run (`OUT/violations/NNN.json`).
    pub violation: PathBuf,
}

/// Exit status 1 when the divergence reproduces, 0 when the fresh platform
/// and the oracle now agree.
pub fn exec(args: Args) -> anyhow::Result<ExitCode> {
    let v = load(&args.violation)?;
    let (rules, files) = load_rules(&v)?;
    println!(
        "violation       {} (seed {}, {})",
        v.kind, v.seed, v.scenario
    );
    if let (Some(c), Some(p)) = (v.citizen, &v.province) {
        println!("citizen         {c} of {p}");
    }
    println!(
        "in the run      at {}: expected {}, platform said {}{}",
        v.at,
        v.expected,
        v.actual,
        if v.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.detail)
        }
    );
    for (p, f) in &v.rules {
        println!("rules           {p}: {f}");
    }
    let r = replay(&v, rules, files);
    println!("\nreplay ({} requests):", r.steps.len());
    for step in &r.steps {
        println!(
            "  {}  {:<12} {:<44} → {}",
            step.event.now,
            sender(step.event.sender),
            request(&step.event.request),
            response(&step.response)
        );
    }
    if r.violations.is_empty() {
        println!(
            "\nnot reproduced: the fresh platform and the oracle agree ({} checks)",
            r.checks
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("\ndivergence reproduced:");
    for d in &r.violations {
        println!(
            "  {} at {}: oracle expects {}, platform says {}{}",
            d.kind,
            d.at,
            d.expected,
            d.actual,
            if d.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.detail)
            }
        );
    }
    Ok(exit::code(exit::CORRECTNESS))
}

/// Reads a violation file, naming the file, line and field of anything
/// that is not one: a province index past the last, a time that is not a
/// time, a province key that does not exist.
pub fn load(path: &Path) -> anyhow::Result<Violation> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading violation {}", path.display()))?;
    let bad = |field: &str, e: serde_json::Error| {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i])
            .to_string();
        let field = if field.is_empty() || field == "." {
            String::new()
        } else {
            format!(" field `{field}`:")
        };
        anyhow::anyhow!("{}:{}:{field} {message}", path.display(), e.line())
    };
    let mut de = serde_json::Deserializer::from_str(&text);
    let v: Violation = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        bad(&field, e.into_inner())
    })?;
    de.end().map_err(|e| bad("", e))?;
    let at_fault = |key: &str, field: &str, message: String| {
        // The file is pretty-printed: a top-level key sits at two spaces.
        let needle = format!("  \"{key}\":");
        let line = text
            .lines()
            .position(|l| l.starts_with(&needle))
            .map_or(1, |i| i + 1);
        anyhow::anyhow!("{}:{line}: field `{field}`: {message}", path.display())
    };
    Minute::parse(&v.at).map_err(|m| at_fault("at", "at", m))?;
    let known = |p: &str| {
        ProvinceId::parse(p)
            .is_some_and(|id| id.key() == p)
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "unknown province `{p}`; known: {}",
                    hcsim_platform::region::province_keys()
                )
            })
    };
    if let Some(p) = &v.province {
        known(p).map_err(|m| at_fault("province", "province", m))?;
    }
    for p in v.rules.keys() {
        known(p).map_err(|m| at_fault("rules", &format!("rules.{p}"), m))?;
    }
    Ok(v)
}

fn sender(s: Sender) -> String {
    match s {
        Sender::Citizen(id) => format!("citizen {id}"),
        Sender::Checkpoint => "checkpoint".into(),
        Sender::Authority => "authority".into(),
        Sender::Telecom(_) => "telecom".into(),
    }
}

fn request(r: &Request) -> String {
    match r {
        Request::Apply { face_verified, .. } => format!("apply (face verified: {face_verified})"),
        Request::Declare {
            temperature,
            symptoms,
            contact,
            ..
        } => format!(
            "declare {:.1} °C{}{}",
            temperature.0 as f64 / 10.0,
            if *symptoms { ", symptoms" } else { "" },
            if *contact { ", contact" } else { "" }
        ),
        Request::Temperature { temperature, .. } => {
            format!("temperature {:.1} °C", temperature.0 as f64 / 10.0)
        }
        Request::Verify {
            place, temperature, ..
        } => format!(
            "verify at {} {}{}",
            place.county.province.key(),
            place.kind.as_str(),
            temperature.map_or(String::new(), |t| format!(" {:.1} °C", t.0 as f64 / 10.0))
        ),
        Request::PlaceScan { place, .. } => {
            format!("place scan at {}", place.county.province.key())
        }
        Request::Query { .. } => "query".into(),
        Request::Offline { .. } => "offline code".into(),
        Request::Records { .. } => "read journal".into(),
        Request::Feed { feed, .. } => {
            let v = serde_json::to_value(feed).unwrap_or_default();
            let name = v["feed"].as_str().unwrap_or("feed").to_string();
            let detail = ["status", "level", "positive", "kind", "color"]
                .iter()
                .filter_map(|k| v.get(*k).map(|x| format!("{k}={x}")))
                .collect::<Vec<_>>()
                .join(" ");
            format!("feed {name} {detail}")
        }
        other => format!("{:?}", other.op()),
    }
}

fn response(r: &Response) -> String {
    match r {
        Response::Verdict(v) => format!(
            "{} ({}){}",
            v.color,
            v.decision,
            if v.via_hub { " via hub" } else { "" }
        ),
        Response::Records { records, .. } => format!("{} records", records.len()),
        Response::Refused(x) => format!("refused: {x:?}"),
        Response::Ack => "ack".into(),
        Response::Busy => "busy".into(),
        other => other
            .color()
            .map_or_else(|| format!("{other:?}"), |c| c.to_string()),
    }
}
