//! Bad scenario files fail with the file, line and key named.

use hcsim::scenario::Scenario;

fn error_for(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path)
        .unwrap_err()
        .to_string()
        .replace(&tmp.path().display().to_string(), "DIR")
}

#[test]
fn typo_in_a_key_names_file_line_and_key() {
    let smoke = std::fs::read_to_string(super::scenario("smoke.toml")).unwrap();
    let line = smoke
        .lines()
        .position(|l| l.starts_with("population_scale"))
        .unwrap()
        + 1;
    let e = error_for(&smoke.replace("population_scale", "population_sacle"));
    assert!(
        e.starts_with(&format!(
            "DIR/bad.toml:{line}: field `population_sacle`: unknown field `population_sacle`"
        )),
        "{e}"
    );
}

#[test]
fn missing_file_is_named() {
    let e = Scenario::load(std::path::Path::new("no/such/scenario.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("no/such/scenario.toml: cannot read scenario:"),
        "{e}"
    );
}

#[test]
fn truncated_file_is_an_error_not_a_panic() {
    let e = error_for("name = \"x\"\nseed = 1\nstart = \"2020-10-01T00:");
    assert!(e.starts_with("DIR/bad.toml:3"), "{e}");
}

#[test]
fn missing_required_key_is_named() {
    let e = error_for("name = \"x\"\nseed = 1\nstart = \"2020-10-01T00:00\"\nduration_hours = 1\n");
    assert!(e.contains("population_scale"), "{e}");
}

/// Every scenario shipped at the top of `scenarios/` parses and validates,
/// including the ones too large to run in the test suite.
#[test]
fn every_bundled_scenario_loads() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(super::root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = Scenario::load(&path) {
                panic!("{e}");
            }
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(names.iter().any(|n| n == "national-100m.toml"), "{names:?}");
}

#[test]
fn cases_counted_two_ways_at_once_are_refused_naming_the_field() {
    let smoke = std::fs::read_to_string(super::scenario("smoke.toml")).unwrap();
    let e = error_for(&smoke.replace(
        "confirmed_per_million_day = 300.0",
        "confirmed_per_million_day = 300.0\nconfirmed_per_day = 5.0",
    ));
    assert!(e.starts_with("DIR/bad.toml:"), "{e}");
    assert!(e.contains("field `epidemic.confirmed_per_day`"), "{e}");
    assert!(e.contains("set one of them"), "{e}");
    // Alone, the country's count replaces the per-million default.
    let s = Scenario::load(&super::scenario("national-day.toml")).unwrap();
    assert_eq!(s.epidemic.per_million_day(), 0.0);
    assert_eq!(s.epidemic.confirmed_per_day, 3.0);
}
