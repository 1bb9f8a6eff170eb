//! `hcsim calibrate`: the shipped calibration set passes; moving a
//! behaviour parameter by half takes its figure out of the band, and the
//! command says which figure and exits with the calibration class.

use hcsim::calibrate::manifest::{Manifest, FILE};
use hcsim::calibrate::runner;
use hcsim::scenario::Scenario;
use hcsim_reports::calibration::Calibration;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn set() -> PathBuf {
    super::scenario("calibration")
}

fn hcsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .current_dir(super::root())
        .args(args)
        .output()
        .unwrap()
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_shipped_set_is_calibrated() {
    let tmp = tempfile::tempdir().unwrap();
    let o = hcsim(&["calibrate", "--quiet", "--out", text(tmp.path())]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c: Calibration = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("calibration.json")).unwrap(),
    )
    .unwrap();
    let manifest = Manifest::load(&set()).unwrap();
    assert_eq!(c.figures.len(), manifest.figures.len());
    for f in &c.figures {
        assert!(f.model > 0.0, "{}: the run produced no demand", f.name);
        assert_eq!(f.within, (f.model / f.published - 1.0).abs() <= f.band);
        assert!(f.within || f.gap.is_some(), "{} outside: {stdout}", f.name);
        assert!(stdout.contains(&f.name), "the table names {}", f.name);
    }
    // Every published situation of issue 19 has at least one figure.
    for situation in [
        "fujian",
        "qinghai",
        "shandong-2021-workday",
        "shandong-2021-peak",
        "guangzhou",
        "national",
    ] {
        assert!(
            c.figures.iter().any(|f| f.scenario.starts_with(situation)),
            "no figure for {situation}"
        );
    }
    let html = std::fs::read_to_string(tmp.path().join("calibration.html")).unwrap();
    for f in &c.figures {
        assert!(html.contains(&format!("id=\"calibration-{}\"", f.name)));
    }
    assert!(html.contains("Calibrated: every figure that gates"));
    readme_table_is_what_the_set_measures(&c);
}

/// README's calibration table quotes each figure's model value: it must be
/// this run's, rounded to the digits the table shows, in the set's order.
fn readme_table_is_what_the_set_measures(c: &Calibration) {
    let readme = std::fs::read_to_string(super::root().join("README.md")).unwrap();
    let rows: Vec<Vec<&str>> = readme
        .split("| figure | published | model | |\n|---|---|---|---|\n")
        .nth(1)
        .expect("README.md has the calibration table")
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), c.figures.len(), "a README row per figure");
    for (row, f) in rows.iter().zip(&c.figures) {
        let quoted = row[2];
        let decimals = quoted.split_once('.').map_or(0, |(_, d)| d.len());
        assert_eq!(
            format!("{:.decimals$}", f.model),
            quoted,
            "README's `{}` quotes a model value the set does not measure ({})",
            row[0],
            f.name
        );
        assert_eq!(row[3].starts_with("within"), f.within, "{}", row[0]);
    }
}

/// The figures of the shipped set measured on `scenario` after `adjust`,
/// running that scenario alone (its figures have no baseline elsewhere).
fn measure_alone(scenario: &str, adjust: &dyn Fn(&mut Scenario)) -> Calibration {
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = Manifest::load(&set()).unwrap();
    manifest
        .figures
        .retain(|f| f.scenario == scenario && f.baseline.is_none());
    assert!(!manifest.figures.is_empty());
    let summaries = runner::run_all(
        &[set().join(scenario)],
        tmp.path(),
        1,
        &|_, s| adjust(s),
        &mut |_| {},
    )
    .unwrap();
    runner::judge(&manifest, &set(), &summaries).unwrap()
}

#[test]
fn a_behaviour_parameter_moved_by_half_fails_its_figure() {
    let shipped = measure_alone("fujian-2020.toml", &|_| {});
    assert!(shipped.passed(), "{:?}", shipped.failed());
    for factor in [1.5, 0.5] {
        let moved = measure_alone("fujian-2020.toml", &|s| s.behaviour.open_code *= factor);
        assert_eq!(
            moved.failed(),
            vec!["fujian-2020-displays"],
            "open_code × {factor}: model {}",
            moved.figures[0].model
        );
    }
    let moved = measure_alone("guangzhou-2021-06-02.toml", &|s| {
        s.surges[0].share *= 0.5;
    });
    assert_eq!(moved.failed(), vec!["guangzhou-2021-06-02-displays"]);
}

/// A copy of the set with only the Fujian scenario, its open_code moved,
/// run by the command: exit 14, and the figure is named.
#[test]
fn the_command_names_the_figure_and_exits_with_the_calibration_class() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    std::fs::create_dir(&dir).unwrap();
    let rules = super::scenario("rules");
    let scenario = std::fs::read_to_string(set().join("fujian-2020.toml"))
        .unwrap()
        .replace("open_code = 0.055", "open_code = 0.0825")
        .replace("\"../rules/", &format!("\"{}/", rules.display()));
    assert!(scenario.contains("open_code = 0.0825"));
    std::fs::write(dir.join("fujian-2020.toml"), scenario).unwrap();
    let figures: toml::Table = std::fs::read_to_string(set().join(FILE))
        .unwrap()
        .parse()
        .unwrap();
    let mut only = toml::Table::new();
    let fujian: Vec<toml::Value> = figures["figure"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["scenario"].as_str() == Some("fujian-2020.toml"))
        .cloned()
        .collect();
    only.insert("figure".into(), toml::Value::Array(fujian));
    std::fs::write(dir.join(FILE), toml::to_string(&only).unwrap()).unwrap();

    let out = tmp.path().join("out");
    let o = hcsim(&["calibrate", text(&dir), "--quiet", "--out", text(&out)]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(14), "{stdout}");
    assert!(
        stdout.contains("outside their band: fujian-2020-displays"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(out.join("calibration.html")).unwrap();
    assert!(html.contains("NOT calibrated: fujian-2020-displays."));
}

#[test]
fn figures_file_errors_name_line_and_field() {
    let path = set().join(FILE);
    let good = std::fs::read_to_string(&path).unwrap();
    let bad = good.replacen(
        "metric = \"displays_per_holder_day\"",
        "metric = \"displays_per_day\"",
        1,
    );
    let e = Manifest::parse(&path, &bad).unwrap_err();
    let line = bad
        .lines()
        .position(|l| l.contains("displays_per_day"))
        .unwrap()
        + 1;
    assert_eq!(
        (e.line, e.field.as_deref()),
        (line, Some("figure[0].metric")),
        "{e}"
    );
    assert!(
        e.to_string().contains("known: displays_per_holder_day"),
        "{e}"
    );

    let bad = good.replacen(
        "scenario = \"fujian-2020.toml\"",
        "scenario = \"fujian.toml\"",
        1,
    );
    let e = Manifest::parse(&path, &bad).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("figure[0].scenario"), "{e}");

    let bad = good.replacen("band = 0.25", "band = 25", 1);
    let line = bad.lines().position(|l| l == "band = 25").unwrap() + 1;
    let e = Manifest::parse(&path, &bad).unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (line, Some("band")), "{e}");

    let bad = good.replacen("baseline = \"shandong-2021-workday.toml\"\n", "", 1);
    let e = Manifest::parse(&path, &bad).unwrap_err();
    assert!(e.to_string().contains("needs a baseline scenario"), "{e}");
}
