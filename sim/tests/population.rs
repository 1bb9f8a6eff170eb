//! People, contacts, tests and travel as the rules and the epidemic drive
//! them: NAT demand follows need, contacts come from where people met,
//! arrivals from abroad are quarantined.

use hcsim::run::{run, RunOptions, RunOutcome};
use hcsim::scenario::Scenario;

fn run_text(text: &str, dir: &std::path::Path) -> RunOutcome {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    let mut text_scenario = Scenario::load(&path).unwrap();
    // Rule files resolve from the shipped scenarios' directory.
    text_scenario.path = super::scenario("population-test.toml");
    let opts = RunOptions {
        threads: 2,
        out_dir: dir.join("out"),
        progress: false,
    };
    run(&text_scenario, &opts).unwrap()
}

/// Nine days in Hubei and Anhui with fevers and travel: Hubei's yellow
/// codes release only on a negative NAT and its travellers need one, so
/// people seek those tests; nothing is tested at random.
#[test]
fn nat_tests_follow_the_rules_and_the_epidemic_not_a_random_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "name = \"nat-by-need\"\nseed = 7\nstart = \"2020-10-01T00:00\"\n\
        duration_hours = 216\ntick_minutes = 5\npopulation_scale = 0.00003\n\
        provinces = [\"hubei\", \"anhui\"]\nshards = 4\n\
        [behaviour]\nsymptoms = 0.01\ntravel = 0.02\n\
        [epidemic]\nconfirmed_per_million_day = 500.0\nnat_per_day = 0.0\n";
    let out = run_text(text, tmp.path());
    let e = &out.summary.epidemic;
    let reason = |k: &str| e.nat_by_reason.get(k).copied().unwrap_or(0);
    assert!(reason("yellow_release") > 0, "{e:?}");
    assert!(reason("travel") > 0, "{e:?}");
    assert!(reason("diagnosis") > 0 && reason("contact") > 0, "{e:?}");
    assert_eq!(reason("routine"), 0, "{e:?}");
    assert_eq!(e.nat_tests, e.nat_by_reason.values().sum::<u64>());
    assert_eq!(
        e.nat_tests,
        e.nat_daily.iter().map(|d| d.total).sum::<u64>(),
        "{e:?}"
    );
    assert!(e.contacts_by_setting["household"] > 0, "{e:?}");
    assert!(e.contacts_by_setting["workplace"] > 0, "{e:?}");
    assert!(e.contacts_per_case > 1.0, "{e:?}");
    let oracle = out.summary.oracle.expect("an oracle");
    assert_eq!(oracle.violations, 0, "{oracle:?}");
}

/// Fujian's code is computed from data alone: its residents file no
/// manual declaration, even when ill; listing no province restores them.
#[test]
fn fujian_residents_make_no_manual_declarations() {
    let tmp = tempfile::tempdir().unwrap();
    let text = |exempt: &str| {
        format!(
            "name = \"fujian\"\nseed = 3\nstart = \"2020-10-01T00:00\"\n\
             duration_hours = 48\ntick_minutes = 5\npopulation_scale = 0.00005\n\
             provinces = [\"fujian\"]\nshards = 2\n\
             [behaviour]\nsymptoms = 0.05\nvoluntary_declare = 0.1\n\
             no_manual_declaration = [{exempt}]\n"
        )
    };
    let fujian = run_text(&text("\"fujian\""), &tmp.path().join("a"));
    assert_eq!(fujian.summary.behaviour.declarations_acked, 0);
    assert!(fujian.summary.behaviour.symptom_onsets > 0);
    let declaring = run_text(&text(""), &tmp.path().join("b"));
    assert!(declaring.summary.behaviour.declarations_acked > 0);
}

/// A case turns its county risky and the county is tested whole. Counted
/// per simulated million, cases grow with the scale and so does the share
/// of people mass-tested; counted for the whole country
/// (`confirmed_per_day`), each simulated case is a real one and the share
/// tested is the same at ten times the scale.
#[test]
fn cases_for_the_whole_country_mass_test_the_same_share_at_any_scale() {
    let tmp = tempfile::tempdir().unwrap();
    let share = |cases: &str, scale: f64, dir: &str| {
        let text = format!(
            "name = \"cases-at-scale\"\nseed = 11\nstart = \"2020-10-09T00:00\"\n\
             duration_hours = 72\ntick_minutes = 5\npopulation_scale = {scale}\n\
             provinces = [\"hubei\", \"anhui\"]\nshards = 4\n\
             [epidemic]\n{cases}\nnat_per_day = 0.0\n"
        );
        let out = run_text(&text, &tmp.path().join(dir));
        let e = &out.summary.epidemic;
        let mass = e.nat_by_reason.get("mass_testing").copied().unwrap_or(0);
        let citizens = out.summary.citizens as f64;
        (e.confirmed, mass as f64 / citizens)
    };
    let (small_cases, small) = share("confirmed_per_day = 12.0", 0.00003, "a");
    let (large_cases, large) = share("confirmed_per_day = 12.0", 0.0003, "b");
    assert!(
        small_cases >= 12 && large_cases >= 12,
        "{small_cases} {large_cases}"
    );
    assert!(small > 0.01, "{small}");
    assert!(
        (0.5..2.0).contains(&(large / small)),
        "mass-tested share {small} at 1x, {large} at 10x"
    );
    // The same cases per simulated million at the two scales: ten times
    // the cases at ten times the scale, and a share that grows with them.
    let (_, small) = share("confirmed_per_million_day = 100.0", 0.00003, "c");
    let (_, large) = share("confirmed_per_million_day = 100.0", 0.0003, "d");
    assert!(
        large / small > 3.0,
        "mass-tested share {small} at 1x, {large} at 10x"
    );
}
