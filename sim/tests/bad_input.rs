//! `scenarios/bad/`: broken scenario, rule-set and case files. Each fails
//! with an error naming the file, the line and the field, never a panic.

use hcsim::scenario::Scenario;
use hcsim_platform::RuleSet;
use std::path::Path;

/// The error a user sees for `scenarios/bad/NAME`, with paths relative to
/// the workspace root as a user in it would type them.
fn error_of(name: &str) -> String {
    let root = super::root();
    let path = root.join("scenarios").join("bad").join(name);
    let message = if name.starts_with("rules-") {
        RuleSet::load(&path).map(|_| ()).map_err(|e| e.to_string())
    } else if name.starts_with("case-") {
        hcsim::check::run_cases(&path, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        Scenario::load(&path).map(|_| ()).map_err(|e| e.to_string())
    };
    match message {
        Ok(()) => format!("{name} was accepted"),
        Err(e) => e.replace(&format!("{}/", root.display()), ""),
    }
}

#[test]
fn print_all() {
    let mut names: Vec<String> = std::fs::read_dir(super::root().join("scenarios/bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        println!("(\"{n}\", \"{}\"),", error_of(&n).replace('"', "\\\""));
    }
    let _ = Path::new(".");
}
