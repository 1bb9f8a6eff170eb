//! `hcsim diff --rules-a A --rules-b B SCENARIO`: Anhui's yellow code
//! lasting 7 days (anhui.toml) against 5 days (anhui-yellow-5days.toml), on
//! a small Anhui + Hubei scenario where travellers come back from
//! medium-risk counties with a yellow code.

use hcsim::policy_diff::{policy_diff, Options};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rules(name: &str) -> PathBuf {
    super::scenario("rules").join(name)
}

/// A scenario file in `dir` naming the shipped rule sets by absolute path.
fn scenario(dir: &Path, hours: u32) -> PathBuf {
    let text = format!(
        r#"name = "anhui-travel"
seed = 7
start = "2020-10-01T00:00"
duration_hours = {hours}
tick_minutes = 10
population_scale = 0.00001
provinces = ["anhui", "hubei"]
shards = 2
[behaviour]
travel = 0.05
trip_days_mean = 2.0
symptoms = 0.002
[epidemic]
confirmed_per_million_day = 0.0
nat_per_day = 0.0
risk_areas = [
  {{ province = "hubei", county = 0, level = "medium" }},
  {{ province = "hubei", county = 1, level = "medium" }},
  {{ province = "hubei", county = 2, level = "medium" }},
]
[rules]
default = {default:?}
anhui = {anhui:?}
"#,
        default = rules("default.toml").display().to_string(),
        anhui = rules("anhui.toml").display().to_string(),
    );
    let path = dir.join("anhui-travel.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// codes-X.csv read back: citizen → [(minute text, color)].
fn codes(path: &Path) -> BTreeMap<u64, Vec<(String, String)>> {
    let mut out: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.entry(f[0].parse().unwrap())
            .or_default()
            .push((f[1].to_string(), f[2].to_string()));
    }
    out
}

/// Times a citizen went from yellow to green.
fn yellow_to_green(list: &[(String, String)]) -> Vec<String> {
    list.windows(2)
        .filter(|w| w[0].1 == "yellow" && w[1].1 == "green")
        .map(|w| w[1].0.clone())
        .collect()
}

/// Person-days per color in `province`, straight from a run's summary.json.
fn person_days(summary: &Value, province: &str) -> BTreeMap<String, f64> {
    let minute = |s: &str| {
        hcsim_platform::Minute::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .0
    };
    let mut previous = minute(summary["scenario"]["start"].as_str().unwrap());
    let mut out = BTreeMap::new();
    for point in summary["timeline"]["colors"].as_array().unwrap() {
        let at = minute(point["at"].as_str().unwrap());
        for (color, n) in point["provinces"][province].as_object().unwrap() {
            *out.entry(color.clone()).or_default() +=
                n.as_u64().unwrap() as f64 * (at - previous) as f64 / 1440.0;
        }
        previous = at;
    }
    out
}

#[test]
fn a_shorter_yellow_code_turns_people_green_earlier() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), 240);
    let out = tmp.path().join("diff");
    let o = Command::new(env!("CARGO_BIN_EXE_hcsim"))
        .args(["diff", "--rules-a"])
        .arg(rules("anhui.toml"))
        .arg("--rules-b")
        .arg(rules("anhui-yellow-5days.toml"))
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--examples", "2", "--threads", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("earlier under B for"), "{stdout}");
    let d = json(&out.join("diff.json"));
    assert_eq!(d["provinces"], serde_json::json!(["anhui"]));

    // The direction: yellow→green moves earlier under B, never later.
    let yg = d["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["from"] == "yellow" && t["to"] == "green")
        .expect("a yellow→green transition");
    let shifts = yg["shifted"].as_array().unwrap();
    let earlier: u64 = shifts
        .iter()
        .filter(|s| s["days"].as_i64().unwrap() < 0)
        .map(|s| s["people"].as_u64().unwrap())
        .sum();
    assert!(earlier > 0, "{yg}");
    assert!(
        shifts.iter().all(|s| s["days"].as_i64().unwrap() < 0),
        "{yg}"
    );
    assert!(yg["b"].as_u64() >= yg["a"].as_u64(), "{yg}");

    // The counts agree with a direct count from the two runs' codes.
    let (ca, cb) = (
        codes(&out.join("codes-a.csv")),
        codes(&out.join("codes-b.csv")),
    );
    let citizens: std::collections::BTreeSet<u64> = ca.keys().chain(cb.keys()).copied().collect();
    let changed = citizens
        .iter()
        .filter(|id| ca.get(id) != cb.get(id))
        .count();
    assert_eq!(d["citizens_changed"].as_u64(), Some(changed as u64));
    assert!(changed > 0);
    let (mut moved, mut only_b) = (0u64, 0u64);
    for id in &citizens {
        let none = Vec::new();
        let ta = yellow_to_green(ca.get(id).unwrap_or(&none));
        let tb = yellow_to_green(cb.get(id).unwrap_or(&none));
        moved += ta.iter().zip(&tb).filter(|(x, y)| x != y).count() as u64;
        only_b += tb.len().saturating_sub(ta.len()) as u64;
    }
    let shifted: u64 = shifts.iter().map(|s| s["people"].as_u64().unwrap()).sum();
    assert_eq!((shifted, yg["only_b"].as_u64().unwrap()), (moved, only_b));

    // Person-days agree with each run's own summary.json.
    let (sa, sb) = (
        json(&out.join("a/summary.json")),
        json(&out.join("b/summary.json")),
    );
    let (da, db) = (person_days(&sa, "anhui"), person_days(&sb, "anhui"));
    for row in d["person_days"].as_array().unwrap() {
        let color = row["color"].as_str().unwrap();
        for (side, direct) in [("a", &da), ("b", &db)] {
            let reported = row[side].as_f64().unwrap();
            let counted = direct.get(color).copied().unwrap_or(0.0);
            // The report rounds to a tenth: at most half of one off.
            assert!(
                (reported - counted).abs() <= 0.05 + 1e-9,
                "{color} {side}: {reported} vs {counted}"
            );
        }
    }
    assert!(
        db["yellow"] < da["yellow"],
        "fewer yellow person-days under B"
    );

    // An example shows the day B said green while A still said yellow.
    let examples = d["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 2);
    let greener = examples.iter().any(|e| {
        let a = e["history_a"].as_array().unwrap();
        let b = e["history_b"].as_array().unwrap();
        a.iter().any(|x| {
            x["answer"].as_str().unwrap().contains("yellow")
                && b.iter().any(|y| {
                    y["at"] == x["at"]
                        && y["event"] == x["event"]
                        && y["answer"].as_str().unwrap().contains("green")
                })
        })
    });
    assert!(
        greener,
        "{}",
        serde_json::to_string_pretty(examples).unwrap()
    );
    let html = std::fs::read_to_string(out.join("diff.html")).unwrap();
    assert!(html.contains("Policy diff: anhui-travel") && html.contains("<svg"));
}

#[test]
fn identical_rules_change_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), 96);
    let d = policy_diff(&Options {
        scenario: file,
        rules_a: rules("anhui.toml"),
        rules_b: rules("anhui.toml"),
        provinces: Vec::new(),
        out: tmp.path().join("same"),
        threads: 1,
        examples: 5,
    })
    .unwrap();
    assert!(
        d.transitions.iter().any(|t| t.from == "green" && t.a > 0),
        "people did change color, the same way under both"
    );
    assert_eq!(d.citizens_changed, 0);
    assert!(d.transitions.iter().all(|t| t.changed() == 0 && t.a == t.b));
    assert!(d.person_days.iter().all(|p| p.a == p.b));
    assert!(d.refused_scans.is_empty() && d.refused_total.a == d.refused_total.b);
    assert!(d.examples.is_empty());
}

#[test]
fn rule_sets_must_apply_to_a_province() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario(tmp.path(), 24);
    let err = policy_diff(&Options {
        scenario: file,
        rules_a: rules("fujian.toml"),
        rules_b: rules("fujian.toml"),
        provinces: Vec::new(),
        out: tmp.path().join("none"),
        threads: 1,
        examples: 5,
    })
    .expect_err("no province runs Fujian's scheme");
    assert!(
        err.to_string().contains("no province of") && err.to_string().contains("`fujian`"),
        "{err}"
    );
}
