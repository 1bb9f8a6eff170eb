//! JUnit XML for a gate verdict, the format CI systems show as test results:
//! one `<testcase>` per check, `<failure>` and `<skipped>` with the reason,
//! and for a baseline test its samples' statistics as properties. No
//! timestamps or durations, so the same verdict gives the same file.

use crate::format::escape;
use crate::gate::power::Detectable;
use crate::gate::{CheckResult, Status, TestMethod, Verdict};

pub fn render(v: &Verdict) -> String {
    let (tests, failures, skipped) = (
        v.checks.len(),
        v.count(Status::Fail),
        v.count(Status::Skipped),
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out += &format!(
        "<testsuites name=\"hcsim gate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n"
    );
    out += &format!(
        "  <testsuite name=\"gate: {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n",
        escape(&v.scenario)
    );
    out += "    <properties>\n";
    let seeds: Vec<String> = v.seeds.iter().map(u64::to_string).collect();
    for (name, value) in [
        ("scenario", escape(&v.scenario)),
        ("seed", v.seed.to_string()),
        ("seeds", seeds.join(" ")),
        ("runs", v.runs.to_string()),
        ("alpha", v.alpha.to_string()),
    ] {
        out += &format!("      <property name=\"{name}\" value=\"{value}\"/>\n");
    }
    out += "    </properties>\n";
    for c in &v.checks {
        out += &format!(
            "    <testcase classname=\"gate.{}.{}\" name=\"{}\">\n",
            escape(&v.scenario),
            c.group,
            escape(&c.name)
        );
        out += &properties(c);
        let detail = detail(c);
        match c.status {
            Status::Pass => out += &format!("      <system-out>{}</system-out>\n", escape(&detail)),
            Status::Fail => {
                out += &format!(
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                    c.class.as_str(),
                    escape(&c.reason),
                    escape(&detail)
                )
            }
            Status::Skipped => {
                out += &format!("      <skipped message=\"{}\"/>\n", escape(&c.reason))
            }
        }
        out += "    </testcase>\n";
    }
    out += "  </testsuite>\n</testsuites>\n";
    out
}

fn detail(c: &CheckResult) -> String {
    let mut d = format!("value {}, limit {}", c.value_text(), c.limit);
    if !c.reason.is_empty() {
        d += &format!(": {}", c.reason);
    }
    d
}

/// A check's class, and a baseline test's samples, p-values and change.
fn properties(c: &CheckResult) -> String {
    let mut props = vec![("class", c.class.as_str().to_string())];
    if let Some(t) = &c.test {
        props.extend([
            ("baseline_n", t.baseline_n.to_string()),
            ("baseline_median", t.baseline_median.to_string()),
            ("baseline_sd", t.baseline_sd.to_string()),
            ("candidate_n", t.candidate_n.to_string()),
            ("candidate_median", t.candidate_median.to_string()),
            ("candidate_sd", t.candidate_sd.to_string()),
            ("change", t.change.map_or("n/a".into(), |c| c.to_string())),
            ("method", t.method.describe().to_string()),
            ("p", t.p.to_string()),
            ("p_holm", t.p_holm.to_string()),
        ]);
        match t.method {
            TestMethod::Ranks { u, .. } => props.push(("u", u.to_string())),
            TestMethod::Unseen { value, differing } => props.extend([
                ("baseline_value", value.to_string()),
                ("differing_seeds", differing.to_string()),
            ]),
        }
        match t.detectable {
            Detectable::Change(d) => props.push(("detectable_change", d.to_string())),
            Detectable::Seeds(x) => props.push(("fails_from_seeds", x.to_string())),
            _ => {}
        }
    }
    if let Some((b, seed)) = &c.window {
        props.extend([
            ("window_from", b.from.clone()),
            ("window_until", b.until.clone()),
            ("window_minutes", b.minutes.to_string()),
            ("window_seed", seed.to_string()),
        ]);
    }
    let mut out = String::from("      <properties>\n");
    for (name, value) in props {
        out += &format!(
            "        <property name=\"{name}\" value=\"{}\"/>\n",
            escape(&value)
        );
    }
    out + "      </properties>\n"
}
