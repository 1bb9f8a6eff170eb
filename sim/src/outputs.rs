//! A run's outputs replace the last run's whole or not at all: they are
//! written into a staging directory inside the output directory (the same
//! file system, so moves are renames) and moved into place only once every
//! file is written. A reader never sees `summary.json` of one run beside
//! `report.html` of another.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// What a run writes in its output directory. Anything else there is left
/// alone.
pub const OWNED: &[&str] = &[
    "summary.json",
    "performance.json",
    "report.html",
    "charts",
    "violations",
];

/// Runs `write` against a fresh staging directory, then replaces the
/// `OWNED` entries of `target` with what it wrote. When `write` fails,
/// `target` is left exactly as it was.
pub fn replace(
    target: &Path,
    write: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(target)
        .with_context(|| format!("creating output directory {}", target.display()))?;
    let stage = tempfile::Builder::new()
        .prefix(".hcsim-staging-")
        .tempdir_in(target)
        .with_context(|| format!("staging outputs in {}", target.display()))?;
    write(stage.path())?;
    publish(stage.path(), target)
}

/// Moves the old entries aside, the new ones in, then drops the old. A
/// failure while moving aside puts back what was moved.
fn publish(stage: &Path, target: &Path) -> anyhow::Result<()> {
    let trash = tempfile::Builder::new()
        .prefix(".hcsim-previous-")
        .tempdir_in(target)
        .with_context(|| format!("replacing outputs in {}", target.display()))?;
    let mut aside: Vec<&str> = Vec::new();
    for name in OWNED {
        let old = target.join(name);
        if std::fs::symlink_metadata(&old).is_err() {
            continue;
        }
        if let Err(e) = std::fs::rename(&old, trash.path().join(name)) {
            restore(trash.path(), target, &aside);
            return Err(e).with_context(|| format!("moving aside {}", old.display()));
        }
        aside.push(name);
    }
    let mut placed: Vec<PathBuf> = Vec::new();
    for name in OWNED {
        let new = stage.join(name);
        if std::fs::symlink_metadata(&new).is_err() {
            continue;
        }
        let to = target.join(name);
        if let Err(e) = std::fs::rename(&new, &to) {
            for p in &placed {
                let _ = remove(p);
            }
            restore(trash.path(), target, &aside);
            return Err(e).with_context(|| format!("moving {} into place", to.display()));
        }
        placed.push(to);
    }
    Ok(())
}

fn restore(trash: &Path, target: &Path, names: &[&str]) {
    for name in names {
        let _ = std::fs::rename(trash.join(name), target.join(name));
    }
}

fn remove(p: &Path) -> std::io::Result<()> {
    if p.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
}

/// The scenario's file name: `summary.json` must not depend on how the
/// path was typed (`sc/smoke.toml` or `/home/me/sc/smoke.toml`).
pub fn scenario_file_name(scenario: &Path) -> String {
    scenario.file_name().map_or_else(
        || scenario.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A path the run read, relative to the scenario's directory (as the
/// scenario names it); anything that is not a path under it is kept as is.
pub fn beside_scenario(scenario: &Path, recorded: &str) -> String {
    let base = scenario.parent().unwrap_or(Path::new(""));
    let p = Path::new(recorded);
    if let Ok(rel) = p.strip_prefix(base) {
        return rel.display().to_string();
    }
    match (base.canonicalize(), p.canonicalize()) {
        (Ok(b), Ok(c)) => c
            .strip_prefix(&b)
            .map_or_else(|_| recorded.to_string(), |r| r.display().to_string()),
        _ => recorded.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn recorded_paths_are_relative_to_the_scenario() {
        let tmp = tempfile::tempdir().unwrap();
        let rules = tmp.path().join("rules");
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(rules.join("recognition.toml"), "").unwrap();
        let scenario = tmp.path().join("smoke.toml");
        let policy = rules.join("recognition.toml");
        assert_eq!(scenario_file_name(&scenario), "smoke.toml");
        assert_eq!(
            beside_scenario(&scenario, &policy.display().to_string()),
            "rules/recognition.toml"
        );
        assert_eq!(beside_scenario(&scenario, "(default)"), "(default)");
    }

    use super::*;

    fn old_run(dir: &Path) {
        std::fs::create_dir_all(dir.join("charts")).unwrap();
        for f in [
            "summary.json",
            "performance.json",
            "report.html",
            "charts/a.svg",
        ] {
            std::fs::write(dir.join(f), "old").unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_write_leaves_the_last_run_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        old_run(tmp.path());
        let before = listing(tmp.path());
        let r = replace(tmp.path(), |stage| {
            std::fs::write(stage.join("summary.json"), "new")?;
            std::fs::write(stage.join("performance.json"), "new")?;
            anyhow::bail!("report.html: disk full")
        });
        assert!(r.is_err());
        assert_eq!(
            listing(tmp.path()),
            before,
            "no staging directory left behind"
        );
        for f in [
            "summary.json",
            "performance.json",
            "report.html",
            "charts/a.svg",
        ] {
            assert_eq!(
                std::fs::read_to_string(tmp.path().join(f)).unwrap(),
                "old",
                "{f}"
            );
        }
    }

    #[test]
    fn a_finished_write_replaces_every_owned_entry_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        old_run(tmp.path());
        std::fs::create_dir_all(tmp.path().join("violations")).unwrap();
        std::fs::write(tmp.path().join("violations/001.json"), "old").unwrap();
        replace(tmp.path(), |stage| {
            std::fs::create_dir_all(stage.join("charts"))?;
            for f in [
                "summary.json",
                "performance.json",
                "report.html",
                "charts/b.svg",
            ] {
                std::fs::write(stage.join(f), "new")?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            listing(tmp.path()),
            [
                "charts",
                "notes.txt",
                "performance.json",
                "report.html",
                "summary.json"
            ]
        );
        assert_eq!(listing(&tmp.path().join("charts")), ["b.svg"]);
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("summary.json")).unwrap(),
            "new"
        );
    }
}
