//! What to mark on the report's timelines: rule violations (moments),
//! injected faults (moments or windows) and the windows when the service
//! was failing, read from summary.json's optional `violations`, `faults`
//! and `failing.national` sections.
//!
//! The report reads those sections loosely, from the JSON rather than from
//! typed fields, so a summary without them (or from a run of an older
//! hcsim) still renders, and the sections can grow fields without the
//! report changing. What it looks for is documented in SCHEMA.md
//! ("Timeline markers"):
//! - in `violations`: every object with a time under `at` (or `time`) is one
//!   violation; its label is its `kind` (or `invariant`, `rule`, `check`);
//! - in `faults`: every object with `start` and `end` (or `from` and
//!   `until`) is a window, one with only `at` a moment; its label is its
//!   `kind` (or `fault`, `type`), followed by its `province` if any.
//!
//! An object that matches is not searched further, so a violation's own
//! event history (whose entries also carry `at`) is not read as more
//! violations.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Violation,
    Fault,
    /// The platforms together were failing (`failing.national`).
    Failing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub kind: MarkerKind,
    pub label: String,
    /// `YYYY-MM-DDTHH:MM`, Beijing time.
    pub start: String,
    /// Set for a window.
    pub end: Option<String>,
}

/// The markers of a run's summary.
pub fn of(summary: &crate::summary::Summary) -> Vec<Marker> {
    read(&serde_json::to_value(summary).unwrap_or_default())
}

/// The markers of a summary (as JSON), violations first, each in file order.
pub fn read(summary: &Value) -> Vec<Marker> {
    let mut out = Vec::new();
    if let Some(v) = summary.get("violations") {
        walk(v, MarkerKind::Violation, &mut out);
    }
    if let Some(f) = summary.get("faults") {
        walk(f, MarkerKind::Fault, &mut out);
    }
    if let Some(f) = summary.get("failing").and_then(|f| f.get("national")) {
        walk(f, MarkerKind::Failing, &mut out);
    }
    out
}

fn text<'a>(o: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| o.get(*k).and_then(Value::as_str))
}

fn walk(v: &Value, kind: MarkerKind, out: &mut Vec<Marker>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, kind, out)),
        Value::Object(o) => match marker(o, kind) {
            Some(m) => out.push(m),
            None => o.values().for_each(|i| walk(i, kind, out)),
        },
        _ => {}
    }
}

fn marker(o: &serde_json::Map<String, Value>, kind: MarkerKind) -> Option<Marker> {
    let is_time = |s: &&str| minutes(s).is_some();
    let at = text(o, &["at", "time"]).filter(is_time);
    let window = match kind {
        MarkerKind::Fault | MarkerKind::Failing => text(o, &["start", "from"])
            .filter(is_time)
            .zip(text(o, &["end", "until"]).filter(is_time)),
        MarkerKind::Violation => None,
    };
    let (start, end) = match (window, at) {
        (Some((s, e)), _) => (s, Some(e.to_string())),
        (None, Some(a)) => (a, None),
        (None, None) => return None,
    };
    let (names, fallback): (&[&str], &str) = match kind {
        MarkerKind::Violation => (&["kind", "invariant", "rule", "check"], "violation"),
        MarkerKind::Fault => (&["kind", "fault", "type"], "fault"),
        MarkerKind::Failing => (&[], "service failing"),
    };
    let mut label = text(o, names).unwrap_or(fallback).to_string();
    if let (MarkerKind::Fault, Some(p)) = (kind, text(o, &["province"])) {
        label = format!("{label} ({p})");
    }
    Some(Marker {
        kind,
        label,
        start: start.to_string(),
        end,
    })
}

/// Minutes since 1970-01-01 of `YYYY-MM-DDTHH:MM`; `None` for anything else.
pub fn minutes(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (h, min) = time.get(..5)?.split_once(':')?;
    let (h, min) = (h.parse::<i64>().ok()?, min.parse::<i64>().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 24 + h) * 60 + min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_violations_and_fault_windows_and_nothing_else() {
        let summary = json!({
            "citizens": 3,
            "violations": {
                "checks": 120,
                "count": 2,
                "list": [
                    { "at": "2020-10-01T08:15", "kind": "red_admitted",
                      "history": [{ "at": "2020-10-01T07:00", "event": "declare" }] },
                    { "time": "2020-10-01T09:00" }
                ]
            },
            "faults": [
                { "kind": "hub_partition", "province": "anhui",
                  "start": "2020-10-01T10:00", "end": "2020-10-01T12:00" },
                { "fault": "crash", "at": "2020-10-01T13:30" },
                { "kind": "no time here" }
            ],
            "failing": { "minutes": 30, "national": [
                { "from": "2020-10-01T08:30", "until": "2020-10-01T09:00", "minutes": 30 }
            ] }
        });
        let m = read(&summary);
        let labels: Vec<(&str, Option<&str>)> = m
            .iter()
            .map(|x| (x.label.as_str(), x.end.as_deref()))
            .collect();
        assert_eq!(
            labels,
            [
                ("red_admitted", None),
                ("violation", None),
                ("hub_partition (anhui)", Some("2020-10-01T12:00")),
                ("crash", None),
                ("service failing", Some("2020-10-01T09:00")),
            ]
        );
        assert_eq!(m[4].kind, MarkerKind::Failing);
        assert_eq!(m[0].kind, MarkerKind::Violation);
        assert_eq!(m[2].kind, MarkerKind::Fault);
        assert!(read(&json!({ "citizens": 3 })).is_empty());
    }

    #[test]
    fn converts_times() {
        assert_eq!(minutes("1970-01-01T00:01"), Some(1));
        assert_eq!(
            minutes("2020-10-02T00:00").unwrap() - minutes("2020-10-01T23:45").unwrap(),
            15
        );
        assert_eq!(
            minutes("2021-03-01T00:00").unwrap() - minutes("2021-02-28T00:00").unwrap(),
            1440
        );
        assert_eq!(minutes("not a time"), None);
        assert_eq!(minutes("2020-13-01T00:00"), None);
    }
}
