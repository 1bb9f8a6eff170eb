//! What a run shows while it runs. On a terminal, a bar with the simulated
//! time and an ETA; anywhere else (a CI log, a run under nohup) the bar
//! would draw nothing, so a line every `LINE_SECONDS` of wall time says how
//! far the run has come: a full-size replay runs for an hour.

use crate::engine::TickProgress;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Wall time between two progress lines away from a terminal.
const LINE_SECONDS: u64 = 30;

pub enum Progress {
    Off,
    Bar(indicatif::ProgressBar, Instant),
    Lines { started: Instant, last: Instant },
}

impl Progress {
    /// A bar when standard error is a terminal, else lines.
    pub fn new(enabled: bool, ticks: u32) -> Progress {
        match enabled {
            false => Progress::Off,
            true if std::io::stderr().is_terminal() => Progress::bar(ticks),
            true => Progress::lines(),
        }
    }

    fn bar(ticks: u32) -> Progress {
        let bar = indicatif::ProgressBar::new(ticks as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} ticks  sim {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Progress::Bar(bar, Instant::now())
    }

    fn lines() -> Progress {
        let now = Instant::now();
        Progress::Lines {
            started: now,
            last: now,
        }
    }

    pub fn tick(&mut self, p: &TickProgress) {
        match self {
            Progress::Off => {}
            Progress::Bar(bar, started) => {
                bar.set_position(p.tick as u64);
                bar.set_message(format!("{}  {}", p.now, rate(p, started.elapsed())));
            }
            Progress::Lines { started, last } => {
                if last.elapsed() >= Duration::from_secs(LINE_SECONDS) {
                    *last = Instant::now();
                    eprintln!("{}", line(p, started.elapsed()));
                }
            }
        }
    }

    pub fn finish(self) {
        if let Progress::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}

fn rate(p: &TickProgress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!("{:.2} M events/s", p.events as f64 / secs / 1e6)
}

/// `progress  tick 120/1020  sim 2021-12-20T08:00  1.23 M events/s  5m 03s, ~37m 50s to go`
fn line(p: &TickProgress, elapsed: Duration) -> String {
    let done = p.tick.max(1) as f64 / p.ticks.max(1) as f64;
    let left = elapsed.as_secs_f64() * (1.0 - done) / done;
    format!(
        "progress  tick {}/{}  sim {}  {}  {} elapsed, ~{} to go",
        p.tick,
        p.ticks,
        p.now,
        rate(p, elapsed),
        minutes(elapsed.as_secs_f64()),
        minutes(left),
    )
}

fn minutes(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}m {:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcsim_platform::Minute;

    #[test]
    fn a_line_says_how_far_the_run_has_come_and_how_long_is_left() {
        let p = TickProgress {
            tick: 255,
            ticks: 1020,
            now: Minute(0).plus_hours(4),
            events: 300_000_000,
        };
        let l = line(&p, Duration::from_secs(303));
        assert!(l.starts_with("progress  tick 255/1020  sim "), "{l}");
        assert!(l.contains("0.99 M events/s"), "{l}");
        assert!(l.ends_with("5m 03s elapsed, ~15m 09s to go"), "{l}");
    }
}
