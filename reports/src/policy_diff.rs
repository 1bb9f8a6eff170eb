//! `diff.json` / `diff.html` of a policy diff: one scenario run under rule
//! set A and under rule set B (same seed), and who gets a different code.
//! `hcsim diff --rules-a A.toml --rules-b B.toml SCENARIO` computes it; this
//! module only holds, prints and renders it.

use crate::charts::{palette, Chart, Figure, Series, TimeChart};
use crate::error::{create_dir, write_file, ReportError};
use crate::format::grouped;
use crate::html::page::{Cell, Figure as Headline, Page};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

pub const POLICY_DIFF_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDiff {
    pub schema_version: u32,
    pub scenario: String,
    pub scenario_file: String,
    pub seed: u64,
    pub rules_a: RulesSide,
    pub rules_b: RulesSide,
    /// Province keys whose rule set A or B replaced.
    pub provinces: Vec<String>,
    /// How those provinces were chosen (`--provinces`, or A's scheme).
    pub provinces_chosen_by: String,
    pub citizens: u64,
    /// Citizens living in the replaced provinces.
    pub citizens_in_provinces: u64,
    /// Citizens whose code history (the colors the platform returned to or
    /// about them, and when) differs between A and B.
    pub citizens_changed: u64,
    /// Person-days in each color in the replaced provinces, from the
    /// platform's census at each reporting interval.
    pub person_days: Vec<ColorDays>,
    /// The census behind `person_days`, over time.
    pub colors_over_time: Vec<ColorsAt>,
    /// Changes of color, matched per citizen (the k-th yellow→green under A
    /// with the k-th under B).
    pub transitions: Vec<TransitionChange>,
    /// Refused scans per scanning province, where A and B differ.
    pub refused_scans: Vec<ProvinceRefusals>,
    pub refused_total: AB,
    /// A few changed citizens with their event histories under A and B.
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesSide {
    pub file: String,
    pub scheme: String,
    /// The run's output directory (summary.json, report.html).
    pub run: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AB {
    pub a: u64,
    pub b: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColorDays {
    pub color: String,
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColorsAt {
    pub at: String,
    pub a: BTreeMap<String, u64>,
    pub b: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionChange {
    pub from: String,
    pub to: String,
    /// Occurrences under A and under B.
    pub a: u64,
    pub b: u64,
    /// Matched occurrences at the same minute under both.
    pub unchanged: u64,
    /// Matched occurrences at different times, by whole days B − A
    /// (negative: earlier under B), rounded; 0 = hours apart.
    pub shifted: Vec<Shift>,
    /// Occurrences under A with no match under B, and the reverse.
    pub only_a: u64,
    pub only_b: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub days: i64,
    pub people: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvinceRefusals {
    pub province: String,
    pub a: u64,
    pub b: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub citizen: u32,
    pub province: String,
    /// Masked name and document, as checkpoint staff see them.
    pub holder: String,
    /// One line: what changed for this citizen.
    pub change: String,
    pub codes_a: Vec<CodeAt>,
    pub codes_b: Vec<CodeAt>,
    pub history_a: Vec<HistoryEntry>,
    pub history_b: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeAt {
    pub at: String,
    pub color: String,
}

/// One platform exchange concerning a citizen: what was sent (by them, a
/// checkpoint scanning them, the authority or the carriers) and the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: String,
    pub event: String,
    pub answer: String,
}

fn people(n: u64) -> String {
    if n == 1 {
        "1 person".into()
    } else {
        format!("{} people", grouped(n))
    }
}

impl TransitionChange {
    pub fn changed(&self) -> u64 {
        self.shifted.iter().map(|s| s.people).sum::<u64>() + self.only_a + self.only_b
    }
}

/// "2 days earlier", "1 day later", "hours apart" (B relative to A).
pub fn shift_text(days: i64) -> String {
    let n = days.unsigned_abs();
    let unit = if n == 1 { "day" } else { "days" };
    match days {
        0 => "the same day, hours apart,".to_string(),
        d if d < 0 => format!("{n} {unit} earlier"),
        _ => format!("{n} {unit} later"),
    }
}

impl PolicyDiff {
    /// One line per change, in the words a policy team uses.
    pub fn change_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for t in &self.transitions {
            for s in &t.shifted {
                lines.push(format!(
                    "{}→{} {} under B for {}",
                    t.from,
                    t.to,
                    shift_text(s.days),
                    people(s.people)
                ));
            }
            if t.only_a > 0 {
                lines.push(format!(
                    "{}→{} only under A for {}",
                    t.from,
                    t.to,
                    people(t.only_a)
                ));
            }
            if t.only_b > 0 {
                lines.push(format!(
                    "{}→{} only under B for {}",
                    t.from,
                    t.to,
                    people(t.only_b)
                ));
            }
        }
        lines
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "policy diff of {} (seed {}): A = {} (scheme {}), B = {} (scheme {})",
            self.scenario,
            self.seed,
            self.rules_a.file,
            self.rules_a.scheme,
            self.rules_b.file,
            self.rules_b.scheme
        );
        let _ = writeln!(
            out,
            "provinces       {} ({})",
            self.provinces.join(", "),
            self.provinces_chosen_by
        );
        let _ = writeln!(
            out,
            "citizens        {} changed of {} ({} in those provinces)",
            grouped(self.citizens_changed),
            grouped(self.citizens),
            grouped(self.citizens_in_provinces)
        );
        let _ = writeln!(out, "\nperson-days by color in those provinces:");
        let rows: Vec<Vec<String>> = self
            .person_days
            .iter()
            .map(|d| {
                vec![
                    d.color.clone(),
                    format!("{:.1}", d.a),
                    format!("{:.1}", d.b),
                    format!("{:+.1}", d.b - d.a),
                ]
            })
            .collect();
        out.push_str(&crate::table::render(
            &["color", "A", "B", "B − A"],
            &[
                crate::table::Align::Left,
                crate::table::Align::Right,
                crate::table::Align::Right,
                crate::table::Align::Right,
            ],
            &rows,
        ));
        let _ = writeln!(out, "\ntransitions that changed:");
        let lines = self.change_lines();
        if lines.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
        let _ = writeln!(
            out,
            "\nrefused scans   A {}  B {}  ({:+})",
            grouped(self.refused_total.a),
            grouped(self.refused_total.b),
            self.refused_total.b as i64 - self.refused_total.a as i64
        );
        for r in &self.refused_scans {
            let _ = writeln!(
                out,
                "  {:<16} A {}  B {}  ({:+})",
                r.province,
                grouped(r.a),
                grouped(r.b),
                r.b as i64 - r.a as i64
            );
        }
        for e in &self.examples {
            let _ = writeln!(
                out,
                "\nexample: citizen {} ({}, {}): {}",
                e.citizen, e.holder, e.province, e.change
            );
            // The terminal gets the gist: what happened to the person (feeds,
            // check-ins) and every exchange answered differently; diff.html
            // has the whole history.
            for row in merged_history(e) {
                let cause = row.event.starts_with("carriers:")
                    || row.event.starts_with("authority:")
                    || row.event.starts_with("daily check-in");
                if row.a == row.b && !cause {
                    continue;
                }
                let answer = |x: &Option<String>| x.clone().unwrap_or_else(|| "—".into());
                if row.a == row.b {
                    let _ = writeln!(out, "  {}  {}: {}", row.at, row.event, answer(&row.a));
                } else {
                    let _ = writeln!(
                        out,
                        "  {}  {}\n      A: {}\n      B: {}",
                        row.at,
                        row.event,
                        answer(&row.a),
                        answer(&row.b)
                    );
                }
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Non-green codes over time in the replaced provinces, A against B.
    pub fn chart(&self) -> Chart {
        let occurs = |c: &str, pick: fn(&ColorsAt) -> &BTreeMap<String, u64>| {
            self.colors_over_time
                .iter()
                .any(|p| pick(p).get(c).copied().unwrap_or(0) > 0)
        };
        let mut lines = Vec::new();
        for (k, c) in ["white", "yellow", "orange", "red"].into_iter().enumerate() {
            if !occurs(c, |p| &p.a) && !occurs(c, |p| &p.b) {
                continue;
            }
            let values = |pick: fn(&ColorsAt) -> &BTreeMap<String, u64>| {
                self.colors_over_time
                    .iter()
                    .map(|p| pick(p).get(c).copied().unwrap_or(0) as f64)
                    .collect::<Vec<_>>()
            };
            lines.push(Series::new(
                format!("{c} under A"),
                palette::code(c),
                values(|p| &p.a),
            ));
            lines.push(Series::new(
                format!("{c} under B"),
                palette::cycle(k + 4),
                values(|p| &p.b),
            ));
        }
        Chart {
            name: "policy-colors".into(),
            title: "Codes that are not green, A against B".into(),
            caption: format!(
                "People holding each non-green color in {}, from the platform's census at each reporting interval.",
                self.provinces.join(", ")
            ),
            size: (1200, 420),
            figure: Figure::Time(TimeChart {
                x_labels: self.colors_over_time.iter().map(|p| p.at.clone()).collect(),
                y_label: "people".into(),
                stacked: Vec::new(),
                lines,
            }),
        }
    }

    pub fn to_html(&self) -> Result<String, ReportError> {
        let mut page = Page::default();
        page.heading(1, &format!("Policy diff: {}", self.scenario));
        page.meta(&format!(
            "{} · seed {} · A = {} (scheme {}) · B = {} (scheme {}) · provinces {} ({})",
            self.scenario_file,
            self.seed,
            self.rules_a.file,
            self.rules_a.scheme,
            self.rules_b.file,
            self.rules_b.scheme,
            self.provinces.join(", "),
            self.provinces_chosen_by
        ));
        let shifted: u64 = self.transitions.iter().map(TransitionChange::changed).sum();
        page.headline(&[
            Headline {
                label: "citizens with a different code".into(),
                value: grouped(self.citizens_changed),
                note: Some(format!(
                    "of {} ({} in those provinces)",
                    grouped(self.citizens),
                    grouped(self.citizens_in_provinces)
                )),
            },
            Headline {
                label: "transitions changed".into(),
                value: grouped(shifted),
                note: None,
            },
            Headline {
                label: "refused scans, B − A".into(),
                value: format!(
                    "{:+}",
                    self.refused_total.b as i64 - self.refused_total.a as i64
                ),
                note: Some(format!(
                    "A {}, B {}",
                    grouped(self.refused_total.a),
                    grouped(self.refused_total.b)
                )),
            },
        ]);
        page.heading(2, "Transitions that changed");
        let lines = self.change_lines();
        if lines.is_empty() {
            page.paragraph("No citizen changes color at a different time under B.");
        }
        for line in &lines {
            page.paragraph(line);
        }
        let rows: Vec<Vec<Cell>> = self
            .transitions
            .iter()
            .map(|t| {
                vec![
                    Cell::text(format!("{}→{}", t.from, t.to)),
                    Cell::num(grouped(t.a)),
                    Cell::num(grouped(t.b)),
                    Cell::num(grouped(t.unchanged)),
                    Cell::num(grouped(t.shifted.iter().map(|s| s.people).sum())),
                    Cell::num(grouped(t.only_a)),
                    Cell::num(grouped(t.only_b)),
                ]
            })
            .collect();
        page.table(
            &[
                "transition",
                "under A",
                "under B",
                "same time",
                "shifted",
                "only A",
                "only B",
            ],
            &rows,
        );
        let chart = self.chart();
        page.chart(&chart.name, &chart.svg()?, &chart.caption);
        page.heading(2, "Person-days by color");
        let rows: Vec<Vec<Cell>> = self
            .person_days
            .iter()
            .map(|d| {
                vec![
                    Cell::text(&d.color),
                    Cell::num(format!("{:.1}", d.a)),
                    Cell::num(format!("{:.1}", d.b)),
                    Cell::num(format!("{:+.1}", d.b - d.a)),
                ]
            })
            .collect();
        page.table(&["color", "A", "B", "B − A"], &rows);
        page.heading(2, "Refused scans at checkpoints");
        let mut rows: Vec<Vec<Cell>> = self
            .refused_scans
            .iter()
            .map(|r| {
                vec![
                    Cell::text(&r.province),
                    Cell::num(grouped(r.a)),
                    Cell::num(grouped(r.b)),
                    Cell::num(format!("{:+}", r.b as i64 - r.a as i64)),
                ]
            })
            .collect();
        rows.push(vec![
            Cell::class("all provinces", "changed"),
            Cell::num(grouped(self.refused_total.a)),
            Cell::num(grouped(self.refused_total.b)),
            Cell::num(format!(
                "{:+}",
                self.refused_total.b as i64 - self.refused_total.a as i64
            )),
        ]);
        page.table(&["scanning province", "A", "B", "B − A"], &rows);
        page.heading(2, "Examples");
        if self.examples.is_empty() {
            page.paragraph("No citizen's code differs, so there is nothing to show.");
        }
        for e in &self.examples {
            page.heading(
                3,
                &format!("Citizen {} · {} · {}", e.citizen, e.holder, e.province),
            );
            page.paragraph(&e.change);
            let rows: Vec<Vec<Cell>> = merged_history(e)
                .into_iter()
                .map(|r| {
                    let differs = r.a != r.b;
                    let answer = |x: Option<String>| {
                        let text = x.unwrap_or_else(|| "—".into());
                        if differs {
                            Cell::class(text, "changed")
                        } else {
                            Cell::text(text)
                        }
                    };
                    vec![
                        Cell::text(r.at),
                        Cell::text(r.event),
                        answer(r.a),
                        answer(r.b),
                    ]
                })
                .collect();
            page.table(&["time", "event", "answer under A", "under B"], &rows);
        }
        page.meta(&format!(
            "diff.json schema version {}. The two runs' own reports: {}/report.html and {}/report.html.",
            self.schema_version, self.rules_a.run, self.rules_b.run
        ));
        Ok(page.finish(&format!("Policy diff: {}", self.scenario)))
    }

    /// Writes `dir/diff.json` and `dir/diff.html`.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        create_dir(dir)?;
        write_file(&dir.join("diff.json"), self.to_json())?;
        write_file(&dir.join("diff.html"), self.to_html()?)
    }
}

/// One row of an example's two histories side by side.
pub struct HistoryRow {
    pub at: String,
    pub event: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// A's and B's histories merged on (time, event): the same scan or
/// check-in shows both answers on one row; an event only one run had shows
/// "—" on the other side.
pub fn merged_history(e: &Example) -> Vec<HistoryRow> {
    type Key = (String, String, usize);
    let mut rows: BTreeMap<Key, (Option<String>, Option<String>)> = BTreeMap::new();
    let mut add = |history: &[HistoryEntry], side: usize| {
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for h in history {
            let n = seen.entry((h.at.clone(), h.event.clone())).or_default();
            let row = rows.entry((h.at.clone(), h.event.clone(), *n)).or_default();
            *n += 1;
            if side == 0 {
                row.0 = Some(h.answer.clone());
            } else {
                row.1 = Some(h.answer.clone());
            }
        }
    };
    add(&e.history_a, 0);
    add(&e.history_b, 1);
    rows.into_iter()
        .map(|((at, event, _), (a, b))| HistoryRow { at, event, a, b })
        .collect()
}
