//! The shipped cases pass; a changed rule number makes exactly the cases
//! that depend on it fail, readably; case-file mistakes name file, line and
//! field.

use super::*;
use std::fs;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[test]
fn every_shipped_case_passes() {
    let report = run_cases(&scenarios().join("cases"), None).unwrap();
    assert!(report.ok(), "{report}");
    assert!(report.cases.len() >= 40, "{} cases", report.cases.len());
}

#[test]
fn anhui_yellow_checkins_7_to_5_fails_the_matching_cases() {
    let original = fs::read_to_string(scenarios().join("rules/anhui.toml")).unwrap();
    let edited = original.replace("min_days = 7\ncheckins = 7", "min_days = 7\ncheckins = 5");
    assert_ne!(original, edited, "the yellow release moved in anhui.toml");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("anhui.toml");
    fs::write(&copy, edited).unwrap();

    let report = run_cases(&scenarios().join("cases"), Some(&copy)).unwrap();
    let shipped = scenarios().join("cases").display().to_string();
    let failed: Vec<(&str, String)> = report
        .cases
        .iter()
        .filter_map(|c| {
            let f = c.failure.as_deref()?;
            Some((c.name.as_str(), f.replace(&shipped, "CASES")))
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "anhui-yellow-checkins-bind-after-the-7-days",
                "at 2020-03-09T19:59 expected yellow, got green (CASES/anhui.toml:61: query)"
                    .to_string()
            ),
            (
                "anhui-yellow-missed-day-breaks-the-streak",
                "at 2020-03-10T20:00 expected yellow, got green (CASES/anhui.toml:74: checkin)"
                    .to_string()
            ),
        ]
    );
    let text = report.to_string();
    assert!(text.contains("FAIL anhui-yellow-checkins-bind-after-the-7-days: at 2020-03-09T19:59 expected yellow, got green"));
    assert!(
        text.ends_with(&format!("{} passed, 2 failed", report.cases.len() - 2)),
        "{text}"
    );
}

#[test]
fn an_override_must_match_a_scheme() {
    let err = run_cases(
        &scenarios().join("cases/anhui.toml"),
        Some(&scenarios().join("rules/fujian.toml")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("fujian.toml: its scheme `fujian` is the scheme of no case in "),
        "{err}"
    );
}

/// Writes a case file next to a copy of the shipped rules and runs it.
fn run_text(text: &str) -> anyhow::Result<CheckReport> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    for f in fs::read_dir(scenarios().join("rules")).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, rules.join(f.file_name().unwrap())).unwrap();
    }
    let cases = dir.path().join("cases");
    fs::create_dir(&cases).unwrap();
    fs::write(cases.join("t.toml"), text).unwrap();
    let out = run_cases(&cases.join("t.toml"), None);
    let at = cases.display().to_string();
    let mut report = out.map_err(|e| anyhow::anyhow!(e.to_string().replace(&at, "CASES")))?;
    for c in &mut report.cases {
        c.failure = c.failure.take().map(|f| f.replace(&at, "CASES"));
    }
    Ok(report)
}

fn case_error(text: &str) -> String {
    run_text(text).unwrap_err().to_string()
}

const HEAD: &str = "[[case]]\nname = \"x\"\nprovince = \"anhui\"\nsteps = [\n";

#[test]
fn case_file_errors_name_file_line_and_field() {
    assert_eq!(
        case_error(&format!("{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\", colour = \"green\" }},\n]\n")),
        "CASES/t.toml:5: field `colour`: unknown field `colour`, expected one of `at`, `do`, `delivered`, `days`, `temperature`, `symptoms`, `contact`, `positive_test`, `status`, `quarantine`, `quarantine_days`, `county`, `level`, `result`, `institution`, `designated`, `by`, `place`, `relation`, `age`, `name`, `doc`, `face_verified`, `member`, `subject_age`, `departure`, `flight`, `arrival`, `country`, `via`, `left_airport`, `in`, `hub_link`, `countries`, `color`, `decision`, `refused`, `explanation`, `reason`, `guidance`, `nat`, `resume_work`, `credit`, `records`, `valid`, `streak_days`, `alert`, `reminder`, `must_declare`, `busy`, `entered`, `concealed`, `same_flight`, `not_color`, `entered_at`, `origin`, `valid_until`"
    );
    assert_eq!(
        case_error(&format!(
            "{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\" }},\n  {{ at = \"2020-03-01T09:00\", do = \"query\", color = \"purple\" }},\n]\n"
        )),
        "CASES/t.toml:6: field `color`: unknown color `purple`, expected one of green, white, yellow, orange, red"
    );
    assert_eq!(
        case_error(&format!(
            "{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\" }},\n  {{ at = \"2020-03-01T09:00\", do = \"query\", decision = \"pass\" }},\n]\n"
        )),
        "CASES/t.toml:6: field `decision`: `decision` does not apply to `do = \"query\"`"
    );
    assert_eq!(
        case_error(&format!("{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"dance\" }},\n]\n")),
        "CASES/t.toml:5: field `do`: unknown action `dance`, expected one of register, family, declare, checkin, temperature, scan, place_scan, offline, query, records, designate, quarantine, risk, stay, nat, igg, same_building, authority, credit, entry, intl_declare, intl_status, flight, trip, resume_work, national, roaming, entry_query, itinerary, same_flight, co_passenger"
    );
    assert_eq!(
        case_error(&format!(
            "{HEAD}  {{ at = \"2020-03-02T08:00\", do = \"register\" }},\n  {{ at = \"2020-03-01T09:00\", do = \"query\" }},\n]\n"
        )),
        "CASES/t.toml:6: field `at`: steps must be in time order: 2020-03-01T09:00 is before the previous step (2020-03-02T08:00)"
    );
    assert_eq!(
        case_error(&format!("{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"declare\" }},\n]\n")),
        "CASES/t.toml:5: field `do`: `declare` needs a registered person: add a `register` step before it"
    );
    assert_eq!(
        case_error(&format!(
            "{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\" }},\n  {{ at = \"2020-03-01T09:00\", do = \"designate\" }},\n]\n"
        )),
        "CASES/t.toml:6: field `status`: `do = \"designate\"` needs `status`"
    );
    assert_eq!(
        case_error(&format!("{HEAD}  {{ at = \"2020-02-30T08:00\", do = \"register\" }},\n]\n")),
        "CASES/t.toml:5: field `at`: `2020-02-30T08:00` is not a Beijing time like 2020-10-01T08:30"
    );
    assert_eq!(
        case_error("[[case]]\nname = \"x\"\nprovince = \"atlantis\"\nsteps = []\n")
            .split(';')
            .next()
            .unwrap(),
        "CASES/t.toml:3: field `province`: unknown province `atlantis`"
    );
    assert_eq!(
        case_error(
            "[[case]]\nname = \"x\"\nprovince = \"anhui\"\nrules = \"nowhere\"\nsteps = []\n"
        )
        .split(" does not exist")
        .next()
        .unwrap()
        .rsplit_once(' ')
        .unwrap()
        .0,
        "CASES/t.toml:4: field `rules`: rule-set file"
    );
}

#[test]
fn a_failing_expectation_reads_as_a_difference() {
    let report = run_text(&format!(
        "{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\" }},\n  {{ at = \"2020-03-10T09:00\", do = \"same_building\", color = \"red\" }},\n  {{ at = \"2020-03-10T09:01\", do = \"scan\", decision = \"pass\" }},\n]\n\n[[case]]\nname = \"y\"\nprovince = \"anhui\"\nsteps = [\n  {{ at = \"2020-03-01T08:00\", do = \"register\", refused = \"identity_locked\" }},\n]\n"
    ))
    .unwrap();
    assert_eq!(
        report.to_string(),
        "FAIL x: at 2020-03-10T09:00 expected red, got yellow (CASES/t.toml:6: same_building)\n\
         FAIL y: at 2020-03-01T08:00 expected refusal identity_locked, got code issued green (CASES/t.toml:14: register)\n\
         0 passed, 2 failed"
    );
}

#[test]
fn negative_color_entry_view_and_declaration_in_force_read_as_differences() {
    let report = run_text(&format!(
        "{HEAD}  {{ at = \"2020-03-01T08:00\", do = \"register\", not_color = \"green\" }},\n]\n\n\
         [[case]]\nname = \"e\"\nprovince = \"shanghai\"\nsteps = [\n\
         {{ at = \"2020-06-01T08:00\", do = \"register\" }},\n\
         {{ at = \"2020-06-02T10:00\", do = \"entry\", country = 840, flight = 1 }},\n\
         {{ at = \"2020-06-03T09:00\", do = \"entry_query\", entered_at = \"2020-06-02T11:00\" }},\n]\n\n\
         [[case]]\nname = \"o\"\nprovince = \"shanghai\"\nsteps = [\n\
         {{ at = \"2020-06-01T08:00\", do = \"register\" }},\n\
         {{ at = \"2020-06-02T10:00\", do = \"entry\", country = 840, flight = 1 }},\n\
         {{ at = \"2020-06-03T09:00\", do = \"entry_query\", entered_at = \"2020-06-02T10:00\", origin = 392 }},\n]\n\n\
         [[case]]\nname = \"i\"\nprovince = \"beijing\"\nrules = \"national\"\nsteps = [\n\
         {{ at = \"2020-05-01T00:00\", do = \"flight\", departure = \"2020-05-20T10:00\" }},\n\
         {{ at = \"2020-05-01T21:30\", do = \"intl_declare\" }},\n\
         {{ at = \"2020-05-02T08:00\", do = \"intl_declare\" }},\n\
         {{ at = \"2020-05-02T09:00\", do = \"intl_status\", valid_until = \"2020-05-02T21:30\" }},\n]\n"
    ))
    .unwrap();
    let failures: Vec<&str> = report
        .cases
        .iter()
        .filter_map(|c| c.failure.as_deref())
        .collect();
    assert_eq!(
        failures,
        [
            "at 2020-03-01T08:00 expected any color but green, got green (CASES/t.toml:5: register)",
            "at 2020-06-03T09:00 expected entry at 2020-06-02T11:00, got 2020-06-02T10:00 (CASES/t.toml:14: entry_query)",
            "at 2020-06-03T09:00 expected entry from country 392, got 840 (CASES/t.toml:23: entry_query)",
            "at 2020-05-02T09:00 expected the declaration in force valid until 2020-05-02T21:30, got 2020-05-03T08:00 (CASES/t.toml:34: intl_status)",
        ]
    );
}

#[test]
fn duplicate_case_names_are_an_error() {
    let one = "[[case]]\nname = \"same\"\nprovince = \"anhui\"\nsteps = [ { at = \"2020-03-01T08:00\", do = \"register\" } ]\n";
    let err = case_error(&format!("{one}\n{one}"));
    assert_eq!(
        err,
        "CASES/t.toml:6: field `name`: case `same` is already defined at CASES/t.toml:1"
    );
}
