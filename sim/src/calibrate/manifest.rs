//! `figures.toml` in a calibration directory: the published figures, each
//! with the scenario it is measured on, the metric, the published value,
//! its source and derivation, and an optional band and known gap.
//!
//! ```toml
//! band = 0.25                            # default ±25 %
//!
//! [[figure]]
//! name = "fujian-2020-displays"
//! title = "Fujian 八闽健康码, 2020: code displays"
//! scenario = "fujian-2020.toml"          # a scenario file in the same directory
//! metric = "displays_per_holder_day"     # see `figures::METRICS`
//! published = 0.0437
//! source = "DOMAIN.md:121 (Fujian, scale); seeds/002"
//! derivation = "124 M displays / 20.71 M codes / 137 days"
//! band = 0.25                            # optional override
//! baseline = "other.toml"                # peak_over_baseline_mean only
//! gap = "why the model cannot reach it"  # optional: reported, does not gate
//! ```

use super::figures::{Metric, METRICS};
use crate::scenario::InputError;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const FILE: &str = "figures.toml";
pub const DEFAULT_BAND: f64 = 0.25;

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub path: PathBuf,
    pub band: f64,
    pub figures: Vec<FigureSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FigureSpec {
    pub name: String,
    pub title: String,
    /// File name within the directory.
    pub scenario: String,
    pub metric: Metric,
    pub published: f64,
    pub source: String,
    pub derivation: String,
    pub band: f64,
    pub baseline: Option<String>,
    pub gap: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    band: Option<Spanned<f64>>,
    #[serde(default)]
    figure: Vec<Spanned<FigureFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FigureFile {
    name: Spanned<String>,
    title: String,
    scenario: Spanned<String>,
    metric: Spanned<String>,
    published: Spanned<f64>,
    source: String,
    derivation: String,
    band: Option<Spanned<f64>>,
    baseline: Option<Spanned<String>>,
    gap: Option<String>,
}

impl Manifest {
    /// Reads `dir/figures.toml`; every scenario it names must be in `dir`.
    pub fn load(dir: &Path) -> Result<Manifest, InputError> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| InputError::whole_file(&path, format!("cannot read: {e}")))?;
        Manifest::parse(&path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Manifest, InputError> {
        let raw: File = toml::from_str(text).map_err(|e| InputError::from_toml(path, text, &e))?;
        let at = |span: std::ops::Range<usize>, field: String, msg: String| {
            InputError::at(path, text, span, &field, msg)
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        let band_in_range = |b: &Spanned<f64>, field: String| {
            let v = *b.get_ref();
            if v > 0.0 && v < 1.0 {
                Ok(v)
            } else {
                Err(at(
                    b.span(),
                    field,
                    format!("{v} is out of range: a share, > 0 and < 1 (0.25 is ±25 %)"),
                ))
            }
        };
        let band = match &raw.band {
            Some(b) => band_in_range(b, "band".into())?,
            None => DEFAULT_BAND,
        };
        if raw.figure.is_empty() {
            return Err(InputError::whole_file(path, "no [[figure]] entries"));
        }
        let scenario_exists = |s: &Spanned<String>, field: String| {
            let name = s.get_ref();
            if dir.join(name).is_file() {
                Ok(name.clone())
            } else {
                Err(at(
                    s.span(),
                    field,
                    format!("no scenario file `{name}` in {}", dir.display()),
                ))
            }
        };
        let mut figures: Vec<FigureSpec> = Vec::new();
        for (i, f) in raw.figure.iter().enumerate() {
            let f = f.get_ref();
            let field = |k: &str| format!("figure[{i}].{k}");
            let name = f.name.get_ref().clone();
            if figures.iter().any(|g| g.name == name) {
                return Err(at(
                    f.name.span(),
                    field("name"),
                    format!("`{name}` is named twice"),
                ));
            }
            let metric = Metric::parse(f.metric.get_ref()).ok_or_else(|| {
                at(
                    f.metric.span(),
                    field("metric"),
                    format!(
                        "unknown metric `{}`; known: {}",
                        f.metric.get_ref(),
                        METRICS.map(|(n, _)| n).join(", ")
                    ),
                )
            })?;
            let published = *f.published.get_ref();
            if !(published.is_finite() && published > 0.0) {
                return Err(at(
                    f.published.span(),
                    field("published"),
                    format!("{published} is out of range: must be > 0"),
                ));
            }
            let baseline = match (&f.baseline, metric.needs_baseline()) {
                (Some(b), true) => Some(scenario_exists(b, field("baseline"))?),
                (None, false) => None,
                (Some(b), false) => {
                    return Err(at(
                        b.span(),
                        field("baseline"),
                        format!("metric `{}` takes no baseline", metric.name()),
                    ))
                }
                (None, true) => {
                    return Err(at(
                        f.metric.span(),
                        field("baseline"),
                        format!("metric `{}` needs a baseline scenario", metric.name()),
                    ))
                }
            };
            figures.push(FigureSpec {
                name,
                title: f.title.clone(),
                scenario: scenario_exists(&f.scenario, field("scenario"))?,
                metric,
                published,
                source: f.source.clone(),
                derivation: f.derivation.clone(),
                band: match &f.band {
                    Some(b) => band_in_range(b, field("band"))?,
                    None => band,
                },
                baseline,
                gap: f.gap.clone(),
            });
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            band,
            figures,
        })
    }
}
