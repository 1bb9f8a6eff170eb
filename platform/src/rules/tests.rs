//! The loader's error messages, exactly as a policy team reads them.

use super::*;
use crate::time::Minute;

const BASE: &str = r#"scheme = "test"
colors = ["green", "yellow", "red"]

[checkpoint]
pass = ["green"]
refer = ["yellow"]
refuse = ["red"]

[[trigger]]
on = "case"
status = "confirmed"
color = "red"
reason = "confirmed case"

[release.red]
min_days = 14
guidance = "wait 14 days"

[release.yellow]
min_days = 7
guidance = "wait 7 days"
"#;

fn err(text: &str) -> String {
    match RuleSet::parse(text, "scenarios/rules/anhui.toml") {
        Ok(_) => panic!("should not parse:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_parses() {
    let r = RuleSet::parse(BASE, "x").unwrap();
    assert_eq!(r.colors(), [Color::Green, Color::Yellow, Color::Red]);
    assert_eq!(r.release(Color::Yellow).unwrap().min_days, 7);
    assert_eq!(
        r.decision(Color::Orange),
        Decision::Refer,
        "unknown colors by severity"
    );
}

#[test]
fn unknown_color_names_file_line_field_and_the_choices() {
    assert_eq!(
        err(&BASE.replace("color = \"red\"", "color = \"purple\"")),
        "scenarios/rules/anhui.toml:12: field `color`: unknown color `purple`, expected one of green, yellow, red"
    );
}

#[test]
fn a_color_outside_the_scheme() {
    assert_eq!(
        err(&BASE.replace("color = \"red\"", "color = \"orange\"")),
        "scenarios/rules/anhui.toml:12: field `color`: color `orange` is not one of this scheme's colors (green, yellow, red)"
    );
    assert_eq!(
        err(&BASE.replace("refer = [\"yellow\"]", "refer = [\"yellow\", \"white\"]")),
        "scenarios/rules/anhui.toml:6: field `refer`: color `white` is not one of this scheme's colors (green, yellow, red)"
    );
}

#[test]
fn unknown_color_in_the_scheme_list() {
    assert_eq!(
        err(&BASE.replace("\"yellow\", \"red\"]", "\"yelow\", \"red\"]")),
        "scenarios/rules/anhui.toml:2: field `colors`: unknown color `yelow`, expected one of green, white, yellow, orange, red"
    );
}

#[test]
fn a_color_without_a_way_back_to_green() {
    let text = BASE.replace(
        "[release.yellow]\nmin_days = 7\nguidance = \"wait 7 days\"\n",
        "",
    );
    assert_eq!(
        err(&text),
        "scenarios/rules/anhui.toml:2: field `release`: color `yellow` has no [release.yellow]: nobody could get from yellow back to green"
    );
    assert_eq!(
        err(&format!("{BASE}\n[release.green]\nguidance = \"x\"\n")),
        "scenarios/rules/anhui.toml:23: field `release`: green needs no release: it is where releases lead"
    );
    assert_eq!(
        err(&BASE.replace("colors = [\"green\", ", "colors = [")),
        "scenarios/rules/anhui.toml:2: field `colors`: the scheme must list `green`: every release leads back to it"
    );
}

#[test]
fn missing_required_fields() {
    assert_eq!(
        err(&BASE.replace("reason = \"confirmed case\"\n", "")),
        "scenarios/rules/anhui.toml:9: field `reason`: missing field `reason`"
    );
    assert_eq!(
        err(&BASE.replace("status = \"confirmed\"\n", "")),
        "scenarios/rules/anhui.toml:9: field `status`: `on = \"case\"` needs `status` (confirmed, suspected, asymptomatic or close_contact)"
    );
    assert_eq!(
        err(&BASE.replace("guidance = \"wait 7 days\"", "")),
        "scenarios/rules/anhui.toml:19: field `guidance`: missing field `guidance`"
    );
}

#[test]
fn out_of_range_numbers() {
    assert_eq!(
        err(&BASE.replace("min_days = 14", "min_days = 400")),
        "scenarios/rules/anhui.toml:16: field `min_days`: 400 is out of range: must be 0..=365"
    );
    assert_eq!(
        err(&BASE.replace("min_days = 7", "min_days = 7\ncheckins = -1")),
        "scenarios/rules/anhui.toml:21: field `checkins`: -1 is out of range: must be 0..=100"
    );
    let hot = BASE.replace(
        "[release.red]",
        "[[trigger]]\non = \"checkpoint_temperature\"\nthreshold = 73.0\ncolor = \"yellow\"\nreason = \"hot\"\n\n[release.red]",
    );
    assert_eq!(
        err(&hot),
        "scenarios/rules/anhui.toml:17: field `threshold`: 73 °C is out of range: must be 35.0..=43.0"
    );
    assert_eq!(
        err(&format!("{BASE}\n[family]\nparent = 99\n")),
        "scenarios/rules/anhui.toml:24: field `parent`: 99 is out of range: must be 0..=50"
    );
}

#[test]
fn unknown_and_misplaced_fields() {
    assert_eq!(
        err(&BASE.replace("min_days = 7", "min_dayz = 7")),
        "scenarios/rules/anhui.toml:20: field `min_dayz`: unknown field `min_dayz`, expected one of `min_days`, `checkins`, `quarantine_over`, `negative_nat`, `verified`, `guidance`"
    );
    assert_eq!(
        err(&BASE.replace("on = \"case\"", "on = \"rumour\"")),
        "scenarios/rules/anhui.toml:10: field `on`: unknown trigger `rumour`, expected one of case, quarantine, arrival, declaration, same_building, checkpoint_temperature, positive_nat, authority, unverified_minor"
    );
    assert_eq!(
        err(&BASE.replace(
            "status = \"confirmed\"",
            "status = \"confirmed\"\nrisk = \"high\""
        )),
        "scenarios/rules/anhui.toml:12: field `risk`: `risk` does not apply to `on = \"case\"`"
    );
    assert_eq!(
        err(&BASE.replace("min_days = 14", "min_days = \"two weeks\"")),
        "scenarios/rules/anhui.toml:16: field `min_days`: invalid type: string \"two weeks\", expected i64"
    );
}

#[test]
fn scheme_order_and_checkpoint_consistency() {
    assert_eq!(
        err(&BASE.replace("[\"green\", \"yellow\", \"red\"]", "[\"green\", \"red\", \"yellow\"]")),
        "scenarios/rules/anhui.toml:2: field `colors`: `red` is listed before `yellow`, but colors go from lenient to strict"
    );
    assert_eq!(
        err(&BASE.replace("refer = [\"yellow\"]\n", "")),
        "scenarios/rules/anhui.toml:4: field `checkpoint`: color `yellow` has no checkpoint decision: list it under pass, refer or refuse"
    );
    assert_eq!(
        err(&BASE.replace("refer = [\"yellow\"]", "refer = [\"red\"]").replace("refuse = [\"red\"]", "refuse = [\"yellow\"]")),
        "scenarios/rules/anhui.toml:4: field `checkpoint`: `red` is stricter than `yellow` but gets a more lenient decision (refer vs refuse)"
    );
    assert_eq!(
        err(&BASE.replace("color = \"red\"", "color = \"green\"")),
        "scenarios/rules/anhui.toml:12: field `color`: a trigger cannot give `green`: green is where releases lead"
    );
}

#[test]
fn load_names_the_file_it_cannot_read() {
    let e = RuleSet::load(Path::new("/nonexistent/rules.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/rules.toml: cannot read rule set:"),
        "{e}"
    );
}

#[test]
fn every_shipped_rule_set_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/rules");
    let mut schemes = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for path in files {
        let r = RuleSet::load(&path).unwrap_or_else(|e| panic!("{e}"));
        schemes.push(r.scheme().to_string());
    }
    assert_eq!(
        schemes,
        [
            "anhui", // anhui-yellow-5days.toml, the policy-diff variant
            "anhui",
            "default",
            "fujian",
            "guangdong",
            "hubei",
            "national",
            "qinghai"
        ]
    );
}

#[test]
fn never_panics_on_truncated_or_garbled_input() {
    let text = include_str!("../../../scenarios/rules/guangdong.toml");
    assert!(RuleSet::parse(text, "whole").is_ok());
    let mut cuts_refused = 0;
    for (i, _) in text.char_indices().step_by(7) {
        if let Err(e) = RuleSet::parse(&text[..i], "cut") {
            assert!(e.to_string().starts_with("cut"), "{e}");
            cuts_refused += 1;
        }
        // An unterminated string holding a NUL is never valid TOML.
        let garbled: String = text[..i]
            .chars()
            .chain("= [[ \"\u{0}".chars())
            .chain(text[i..].chars())
            .collect();
        let e = RuleSet::parse(&garbled, "garbled").expect_err("garbled input parsed");
        assert!(e.to_string().starts_with("garbled"), "{e}");
    }
    // Most prefixes lack a required table or key.
    assert!(cuts_refused > text.len() / 7 / 2, "{cuts_refused}");
}

/// A trigger block appended to `BASE`: five lines.
const CONFIRMED: &str =
    "[[trigger]]\non = \"case\"\nstatus = \"confirmed\"\ncolor = \"red\"\nreason = \"r\"\n";

#[test]
fn color_and_quarantine_sets_hold_what_was_added_once_or_twice() {
    let s = ColorSet::EMPTY.with(Color::Red).with(Color::Red);
    assert!(s.contains(Color::Red), "adding twice keeps it");
    let s = s.with(Color::Green);
    assert_eq!(s.iter().collect::<Vec<_>>(), [Color::Green, Color::Red]);
    assert!(!s.contains(Color::Yellow));
    let q = QuarantineSet::NONE
        .with(QuarantineKind::Home)
        .with(QuarantineKind::Home);
    assert!(q.contains(QuarantineKind::Home));
    assert!(!q.contains(QuarantineKind::Centralized));
}

#[test]
fn trigger_names_are_the_words_of_the_file() {
    let r = RuleSet::load(&root().join("scenarios/rules/guangdong.toml")).unwrap();
    let names: Vec<&str> = r.triggers().iter().map(|t| t.on.name()).collect();
    assert_eq!(
        names,
        [
            "case",
            "positive_nat",
            "case",
            "case",
            "arrival",
            "quarantine",
            "quarantine",
            "authority",
            "unverified_minor"
        ]
    );
    let others = [
        (TriggerOn::Declaration, "declaration"),
        (TriggerOn::SameBuilding, "same_building"),
        (
            TriggerOn::CheckpointTemperature {
                threshold: DeciCelsius(380),
            },
            "checkpoint_temperature",
        ),
    ];
    for (on, name) in others {
        assert_eq!(on.name(), name);
    }
    assert!(r.has_unverified_minor());
    assert!(r.require_face_verification());
    assert_eq!(r.title(), "粤康码");
    assert!(r.origin().ends_with("scenarios/rules/guangdong.toml"));
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn the_base_scheme_read_back_field_by_field() {
    let r = RuleSet::parse(BASE, "base.toml").unwrap();
    // No `title`: the scheme's name stands in.
    assert_eq!(
        (r.scheme(), r.title(), r.origin()),
        ("test", "test", "base.toml")
    );
    assert!(r.has_color(Color::Yellow));
    assert!(!r.has_color(Color::Orange));
    assert!(!r.has_color(Color::White));
    // No `explain`: every color but green explains itself.
    assert!(!r.explains(Color::Green));
    assert!(r.explains(Color::Yellow) && r.explains(Color::Red));
    assert!(!r.require_face_verification());
    assert!(!r.has_unverified_minor());
    assert_eq!(r.international(), &IntlParams::default());
    // Colors outside the scheme by severity: white as green, orange
    // between, red refused.
    assert_eq!(r.decision(Color::White), Decision::Pass);
    let two = RuleSet::load(&root().join("scenarios/rules/fujian.toml")).unwrap();
    assert_eq!(two.decision(Color::Red), Decision::Refuse);
    assert_eq!(two.decision(Color::Yellow), Decision::Refer);
    assert_eq!(two.decision(Color::White), Decision::Pass);
}

#[test]
fn a_checkpoint_reading_matters_from_the_lowest_threshold_or_the_fever() {
    let r = RuleSet::parse(BASE, "x").unwrap();
    // Fever 37.3 by default, no checkpoint trigger.
    assert!(!r.checkpoint_reading_matters(DeciCelsius(372)));
    assert!(r.checkpoint_reading_matters(DeciCelsius(373)));
    let low = BASE.replace(
        "[release.red]",
        &format!(
            "{}\n{}[release.red]",
            CONFIRMED.replace(
                "on = \"case\"\nstatus = \"confirmed\"",
                "on = \"checkpoint_temperature\"\nthreshold = 37.0"
            ),
            CONFIRMED.replace(
                "on = \"case\"\nstatus = \"confirmed\"",
                "on = \"checkpoint_temperature\"\nthreshold = 38.5"
            ),
        ),
    );
    let r = RuleSet::parse(&low, "x").unwrap();
    assert!(!r.checkpoint_reading_matters(DeciCelsius(369)));
    assert!(r.checkpoint_reading_matters(DeciCelsius(370)));
    assert!(r.checkpoint_reading_matters(DeciCelsius(372)));
}

#[test]
fn international_parameters_and_their_transition() {
    let r = RuleSet::load(&root().join("scenarios/rules/national.toml")).unwrap();
    let i = r.international();
    assert_eq!(
        (i.validity_hours, i.reminder_hours, i.streak_days),
        (24, 2, 14)
    );
    assert_eq!(
        i.transition,
        Some((
            Minute::parse("2020-04-08T00:00").unwrap(),
            Minute::parse("2020-04-22T00:00").unwrap()
        ))
    );
    let own =
        format!("{BASE}\n[international]\nvalidity_hours = 48\nlisted_countries = [156, 840]\n");
    let r = RuleSet::parse(&own, "x").unwrap();
    let i = r.international();
    assert_eq!((i.validity_hours, i.transition), (48, None));
    assert_eq!(i.listed_countries, Some(vec![156, 840]));
    assert_eq!(
        err(&format!(
            "{BASE}\n[international]\ntransition_start = \"2020-04-22\"\ntransition_end = \"2020-04-08\"\n"
        )),
        "scenarios/rules/anhui.toml:25: field `transition_end`: is before transition_start"
    );
    assert_eq!(
        err(&format!("{BASE}\n[international]\ntransition_end = \"2020-04-08\"\n")),
        "scenarios/rules/anhui.toml:24: field `transition_start`: the transition needs both transition_start and transition_end"
    );
}

#[test]
fn at_most_254_triggers() {
    // BASE's trigger and 253 more load; one more is refused, at its own
    // header: BASE's 21 lines and a blank, then five lines per trigger,
    // so the 255th (the 254th appended) starts on line 23 + 5 × 253.
    let many = |n: usize| format!("{BASE}\n{}", CONFIRMED.repeat(n));
    assert_eq!(
        RuleSet::parse(&many(253), "x").unwrap().triggers().len(),
        254
    );
    assert_eq!(
        err(&many(254)),
        "scenarios/rules/anhui.toml:1288: field `trigger`: 255 triggers is out of range: at most 254"
    );
}
