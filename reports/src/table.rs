//! Plain-text tables for the terminal: columns padded to their widest cell,
//! figures right-aligned.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

pub fn render(header: &[&str], align: &[Align], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(
                |(i, c)| match align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left => format!("{c:<w$}", w = widths[i]),
                    Align::Right => format!("{c:>w$}", w = widths[i]),
                },
            )
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    out += &line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        out += &line(
            (0..columns)
                .map(|i| row.get(i).map_or("", String::as_str))
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_aligns() {
        let t = render(
            &["metric", "value"],
            &[Align::Left, Align::Right],
            &[
                vec!["scans".into(), "1,234".into()],
                vec!["busy_rate".into(), "0.5 %".into()],
            ],
        );
        assert_eq!(
            t,
            "metric     value\n---------  -----\nscans      1,234\nbusy_rate  0.5 %\n"
        );
    }
}
