//! `scenarios/bad/`: broken scenario, rule-set and case files. Each fails
//! with an error naming the file, the line and the field, never a panic.

use hcsim::scenario::Scenario;
use hcsim_platform::region::province_keys;
use hcsim_platform::RuleSet;

/// The error a user sees for `scenarios/bad/NAME`, with paths relative to
/// the workspace root as a user in it would type them.
fn error_of(name: &str) -> String {
    let root = super::root();
    let path = root.join("scenarios").join("bad").join(name);
    let message = if name.starts_with("rules-") {
        RuleSet::load(&path).map(|_| ()).map_err(|e| e.to_string())
    } else if name.starts_with("thresholds-") {
        hcsim::cli::gate::load_thresholds(&path)
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else if name.starts_with("replay-") {
        hcsim::cli::replay::load(&path)
            .map(|_| ())
            .map_err(|e| e.to_string())
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

/// Every file in `scenarios/bad/` and the exact error it must give.
/// `{PROVINCES}` stands for the list of province keys.
const EXPECTED: &[(&str, &str)] = &[
    ("case-bad-time.toml", "scenarios/bad/case-bad-time.toml:5: field `at`: `yesterday` is not a Beijing time like 2020-10-01T08:30"),
    ("case-truncated.toml", "scenarios/bad/case-truncated.toml:5: field `steps`: unclosed inline table, expected `}`"),
    ("case-unknown-color.toml", "scenarios/bad/case-unknown-color.toml:5: field `color`: unknown color `plaid`, expected one of green, white, yellow, orange, red"),
    ("case-unknown-province.toml", "scenarios/bad/case-unknown-province.toml:3: field `province`: unknown province `atlantis`; known: {PROVINCES}"),
    ("case-unknown-step.toml", "scenarios/bad/case-unknown-step.toml:5: field `do`: unknown action `teleport`, expected one of register, family, declare, checkin, temperature, scan, place_scan, offline, query, records, designate, quarantine, risk, stay, nat, igg, same_building, authority, credit, entry, intl_declare, intl_status, flight, trip, resume_work, national, roaming, entry_query, itinerary, same_flight, co_passenger"),
    ("fault-field-of-another-kind.toml", "scenarios/bad/fault-field-of-another-kind.toml:12: field `fault[1].delay_hours`: does not apply to a `hub-partition` fault"),
    ("fault-missing-restart.toml", "scenarios/bad/fault-missing-restart.toml:7: field `fault[1].restart_after`: missing: a `platform-crash` fault needs the minutes until the restart"),
    ("fault-restart-out-of-range.toml", "scenarios/bad/fault-restart-out-of-range.toml:11: field `fault[1].restart_after`: 0 is out of range: must be within 1..=10080 minutes"),
    ("fault-unknown-feed.toml", "scenarios/bad/fault-unknown-feed.toml:9: field `fault[1].feeds`: unknown feed `gossip`; known: designation, quarantine, nat, igg, same-building, stay, risk-area, entry, roaming, credit, authority-color"),
    ("fault-unknown-kind.toml", "scenarios/bad/fault-unknown-kind.toml:8: field `fault[1].kind`: unknown fault kind `meteor-strike`; known: hub-partition, slow-hub, platform-crash, feed-delay, feed-duplicate, feed-reorder"),
    ("fault-unknown-province.toml", "scenarios/bad/fault-unknown-province.toml:9: field `fault[1].province`: unknown province `narnia`; known: {PROVINCES}"),
    ("fault-window-backwards.toml", "scenarios/bad/fault-window-backwards.toml:11: field `fault[1].until`: 2020-10-01T08:00 is not after from 2020-10-01T09:00"),
    ("fault-window-outside-run.toml", "scenarios/bad/fault-window-outside-run.toml:10: field `fault[1].from`: 2020-10-03T08:00 is outside the run (2020-10-01T00:00 → 2020-10-02T00:00): the fault would never happen"),
    ("fault-wrong-type.toml", "scenarios/bad/fault-wrong-type.toml:11: field `added_ms`: invalid type: string \"slow\", expected i64"),
    ("replay-bad-time.json", "scenarios/bad/replay-bad-time.json:7: field `at`: `9999-99-99T99:99` is not a Beijing time like 2020-10-01T08:30"),
    ("replay-province-out-of-range.json", "scenarios/bad/replay-province-out-of-range.json:19: field `history[0].request`: province index 200 is out of range 0..=30"),
    ("rules-fever-not-a-number.toml", "scenarios/bad/rules-fever-not-a-number.toml:10: field `fever`: invalid type: string \"hot\", expected f64"),
    ("rules-fever-out-of-range.toml", "scenarios/bad/rules-fever-out-of-range.toml:17: field `fever`: 73.3 °C is out of range: must be 35.0..=43.0"),
    ("rules-truncated.toml", "scenarios/bad/rules-truncated.toml:3: field `colors`: unclosed array, expected `]`"),
    ("rules-unknown-color.toml", "scenarios/bad/rules-unknown-color.toml:8: field `colors`: unknown color `purple`, expected one of green, white, yellow, orange, red"),
    ("rules-unknown-trigger.toml", "scenarios/bad/rules-unknown-trigger.toml:26: field `on`: unknown trigger `horoscope`, expected one of case, quarantine, arrival, declaration, same_building, checkpoint_temperature, positive_nat, authority, unverified_minor"),
    ("scenario-bad-start.toml", "scenarios/bad/scenario-bad-start.toml:3: field `start`: `2020-13-01T00:00` is not a Beijing time like 2020-10-01T08:30"),
    ("scenario-duration-under-a-minute.toml", "scenarios/bad/scenario-duration-under-a-minute.toml:4: field `duration_hours`: 0.001 hours is less than a minute: a run lasts at least one minute"),
    ("scenario-malformed-array.toml", "scenarios/bad/scenario-malformed-array.toml:6: field `provinces`: unclosed array, expected `]`"),
    ("scenario-missing-rule-file.toml", "scenarios/bad/scenario-missing-rule-file.toml:8: field `rules.anhui`: rule-set file scenarios/bad/rules/no-such-file.toml does not exist"),
    ("scenario-negative-duration.toml", "scenarios/bad/scenario-negative-duration.toml:4: field `duration_hours`: -3 is out of range: must be > 0 and at most 8784 (a year)"),
    ("scenario-nesting-too-deep.toml", "scenarios/bad/scenario-nesting-too-deep.toml:7: field `a.a.a.…(9994 more).a.a.a`: 10000 levels of nested keys: more than the parser follows"),
    ("scenario-probability-out-of-range.toml", "scenarios/bad/scenario-probability-out-of-range.toml:8: field `behaviour.mall`: 1.5 is out of range: a probability must be within 0..=1"),
    ("scenario-risk-area-not-simulated.toml", "scenarios/bad/scenario-risk-area-not-simulated.toml:11: field `epidemic.risk_areas[1].province`: `hubei` is not simulated: this scenario's provinces are jiangsu, anhui"),
    ("scenario-seed-not-a-number.toml", "scenarios/bad/scenario-seed-not-a-number.toml:2: field `seed`: invalid type: string \"forty-two\", expected u64"),
    ("scenario-tick-out-of-range.toml", "scenarios/bad/scenario-tick-out-of-range.toml:6: field `tick_minutes`: 90 is out of range: must be 1..=60"),
    ("scenario-truncated.toml", "scenarios/bad/scenario-truncated.toml:5: field `population_sca`: key with no value, expected `=`"),
    ("scenario-unknown-hotspot.toml", "scenarios/bad/scenario-unknown-hotspot.toml:7: field `epidemic.hubie`: unknown province `hubie` in hotspots; known: {PROVINCES}"),
    ("scenario-unknown-province.toml", "scenarios/bad/scenario-unknown-province.toml:6: field `provinces`: unknown province `atlantis`; known: {PROVINCES}"),
    ("thresholds-no-checks.toml", "scenarios/bad/thresholds-no-checks.toml:1: field `limits`: no checks: name at least one metric under [limits] or [baseline]"),
    ("thresholds-wrong-type.toml", "scenarios/bad/thresholds-wrong-type.toml:3: field `limits.busy_rate.max`: invalid type: string \"one percent\", expected f64"),
];

#[test]
fn every_bad_file_fails_with_its_exact_error() {
    let mut files: Vec<String> = std::fs::read_dir(super::root().join("scenarios").join("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, listed, "scenarios/bad/ and the table disagree");
    assert!(files.len() >= 20);
    for (file, expected) in EXPECTED {
        let expected = expected.replace("{PROVINCES}", &province_keys());
        assert_eq!(error_of(file), expected, "{file}");
        // Every message names the file and a line.
        assert!(
            expected.starts_with(&format!("scenarios/bad/{file}:")),
            "{expected}"
        );
    }
}

/// Mutations of the shipped files: the parsers answer every one with a
/// value or an error naming the file, never a panic. The cheap, stable
/// counterpart of the cargo-fuzz targets in `fuzz/`.
mod mutations {
    use super::*;
    use proptest::prelude::*;

    /// Text that upsets TOML or the validation behind it.
    const TOKENS: &[&str] = &[
        "=",
        "[",
        "]",
        "[[",
        "{",
        "}",
        ",",
        "\"",
        "\n",
        "#",
        ".",
        "-1",
        "0",
        "1e400",
        "nan",
        "inf",
        "99999999999999999999",
        "-0.0",
        "true",
        "\"2020-02-30T25:61\"",
        "\u{0}",
        "省",
        "kind = \"platform-crash\"",
        "[[fault]]",
        "[[trigger]]",
        "on = \"case\"",
    ];

    #[derive(Clone, Debug)]
    enum Mutation {
        Truncate(prop::sample::Index),
        Delete(prop::sample::Index, usize),
        Insert(prop::sample::Index, usize),
        Replace(prop::sample::Index, usize, usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            any::<prop::sample::Index>().prop_map(Mutation::Truncate),
            (any::<prop::sample::Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
            (any::<prop::sample::Index>(), 0..TOKENS.len())
                .prop_map(|(i, t)| Mutation::Insert(i, t)),
            (any::<prop::sample::Index>(), 1usize..12, 0..TOKENS.len())
                .prop_map(|(i, n, t)| Mutation::Replace(i, n, t)),
        ]
    }

    /// Applies the mutations on character boundaries, so the text stays UTF-8.
    fn mutate(text: &str, mutations: &[Mutation]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for m in mutations {
            let len = chars.len().max(1);
            match m {
                Mutation::Truncate(i) => chars.truncate(i.index(len)),
                Mutation::Delete(i, n) => {
                    let at = i.index(len).min(chars.len());
                    let end = (at + n).min(chars.len());
                    chars.drain(at..end);
                }
                Mutation::Insert(i, t) => {
                    let at = i.index(len).min(chars.len());
                    chars.splice(at..at, TOKENS[*t].chars());
                }
                Mutation::Replace(i, n, t) => {
                    let at = i.index(len).min(chars.len());
                    let end = (at + n).min(chars.len());
                    chars.splice(at..end, TOKENS[*t].chars());
                }
            }
        }
        chars.into_iter().collect()
    }

    fn shipped(dir: &str, names: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        names
            .iter()
            .map(|n| {
                let p = super::super::root().join(dir).join(n);
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect()
    }

    proptest! {
        // A fixed seed: the same cases on every run and machine.
        #![proptest_config(ProptestConfig {
            cases: 1000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(20201001),
            ..ProptestConfig::default()
        })]

        #[test]
        fn mutated_scenarios_never_panic(
            which in 0usize..3,
            mutations in prop::collection::vec(mutation(), 1..4),
        ) {
            let files = shipped("scenarios", &["smoke.toml", "faults.toml", "spring-festival.toml"]);
            let (path, text) = &files[which];
            let text = mutate(text, &mutations);
            if let Err(e) = Scenario::parse(path, &text) {
                prop_assert!(e.to_string().starts_with(&path.display().to_string()), "{}", e);
            }
        }

        #[test]
        fn mutated_rule_sets_never_panic(
            which in 0usize..7,
            mutations in prop::collection::vec(mutation(), 1..4),
        ) {
            let names = ["default.toml", "national.toml", "anhui.toml", "fujian.toml",
                         "guangdong.toml", "hubei.toml", "qinghai.toml"];
            let files = shipped("scenarios/rules", &names);
            let (_, text) = &files[which];
            let text = mutate(text, &mutations);
            if let Err(e) = RuleSet::parse(&text, "rules.toml") {
                prop_assert!(e.to_string().starts_with("rules.toml"), "{}", e);
            }
        }
    }
}
