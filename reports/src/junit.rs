//! JUnit XML for a gate verdict, the format CI systems show as test results:
//! one `<testcase>` per check, `<failure>` and `<skipped>` with the reason.
//! No timestamps or durations, so the same verdict gives the same file.

use crate::format::escape;
use crate::gate::{Status, Verdict};

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
    out += &format!(
        "      <property name=\"scenario\" value=\"{}\"/>\n",
        escape(&v.scenario)
    );
    out += &format!("      <property name=\"seed\" value=\"{}\"/>\n", v.seed);
    out += "    </properties>\n";
    for c in &v.checks {
        let open = format!(
            "    <testcase classname=\"gate.{}.{}\" name=\"{}\"",
            escape(&v.scenario),
            c.group,
            escape(&c.name)
        );
        let detail = format!("value {}, limit {}", c.value_text(), c.limit);
        match c.status {
            Status::Pass => out += &format!("{open}>\n      <system-out>{}</system-out>\n    </testcase>\n", escape(&detail)),
            Status::Fail => {
                out += &format!(
                    "{open}>\n      <failure type=\"threshold\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    escape(&c.reason),
                    escape(&detail)
                )
            }
            Status::Skipped => {
                out += &format!("{open}>\n      <skipped message=\"{}\"/>\n    </testcase>\n", escape(&c.reason))
            }
        }
    }
    out += "  </testsuite>\n</testsuites>\n";
    out
}
