//! A self-contained HTML page: inline CSS, inline SVG, no scripts, nothing
//! fetched from the network, and no timestamp, so the same data gives the
//! same bytes.

use crate::format::escape;

const CSS: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; color: #282828; margin: 24px auto; max-width: 1240px; padding: 0 16px; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.meta { color: #555; margin-top: 0; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 20px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; flex: 1 1 0; min-width: 110px; }
.figure .value { font-size: 24px; font-weight: bold; white-space: nowrap; }
.figure .label { color: #555; font-size: 13px; }
.figure .note { color: #888; font-size: 11px; max-width: 180px; }
.chart svg { width: 100%; height: auto; }
.chart p { color: #555; font-size: 13px; margin-top: 2px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 10px; text-align: left; }
th { background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: #c62828; font-weight: bold; }
td.good { color: #2e7d32; }
td.skip { color: #888; }
td.changed { font-weight: bold; }
";

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub class: Option<&'static str>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            class: None,
        }
    }
    /// Right-aligned, for figures.
    pub fn num(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            class: Some("n"),
        }
    }
    pub fn class(t: impl Into<String>, class: &'static str) -> Cell {
        Cell {
            text: t.into(),
            class: Some(class),
        }
    }
}

/// One headline figure: label, value and an optional note (why it is n/a).
pub struct Figure {
    pub label: String,
    pub value: String,
    pub note: Option<String>,
}

#[derive(Default)]
pub struct Page {
    body: String,
}

impl Page {
    pub fn heading(&mut self, level: u8, text: &str) {
        self.body
            .push_str(&format!("<h{level}>{}</h{level}>\n", escape(text)));
    }

    pub fn meta(&mut self, text: &str) {
        self.body
            .push_str(&format!("<p class=\"meta\">{}</p>\n", escape(text)));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.body.push_str(&format!("<p>{}</p>\n", escape(text)));
    }

    pub fn headline(&mut self, figures: &[Figure]) {
        self.body.push_str("<div class=\"headline\">\n");
        for f in figures {
            self.body.push_str(&format!(
                "<div class=\"figure\"><div class=\"value\">{}</div><div class=\"label\">{}</div>",
                escape(&f.value),
                escape(&f.label)
            ));
            if let Some(note) = &f.note {
                self.body
                    .push_str(&format!("<div class=\"note\">{}</div>", escape(note)));
            }
            self.body.push_str("</div>\n");
        }
        self.body.push_str("</div>\n");
    }

    /// An inline SVG chart with its caption.
    pub fn chart(&mut self, id: &str, svg: &str, caption: &str) {
        self.body
            .push_str(&format!("<div class=\"chart\" id=\"{}\">\n", escape(id)));
        self.body.push_str(svg.trim());
        self.body
            .push_str(&format!("\n<p>{}</p>\n</div>\n", escape(caption)));
    }

    pub fn table(&mut self, header: &[&str], rows: &[Vec<Cell>]) {
        self.body.push_str("<table>\n<tr>");
        for h in header {
            self.body.push_str(&format!("<th>{}</th>", escape(h)));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                match cell.class {
                    Some(c) => self
                        .body
                        .push_str(&format!("<td class=\"{c}\">{}</td>", escape(&cell.text))),
                    None => self
                        .body
                        .push_str(&format!("<td>{}</td>", escape(&cell.text))),
                }
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
    }

    pub fn finish(self, title: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(title),
            self.body
        )
    }
}
