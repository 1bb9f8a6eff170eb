//! Interprovincial recognition policy (`scenarios/recognition-policy.toml`):
//! how each receiving province treats each color of a code issued elsewhere,
//! and what it answers when the national hub cannot be reached in time.
//!
//! A receiver treats a foreign color as the policy says (Fujian orange in
//! Guangdong → red) and then decides under its own checkpoint table. A
//! mapping to a more lenient color is an error unless the entry names both
//! sides and gives `allow_lenient = "why"`; such allowances are listed so
//! that a run report can show them.

use crate::api::Issuer;
use crate::color::{Color, ALL_COLORS};
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::rules::RuleError;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// Issuers: 31 provinces then the national code.
const ISSUERS: usize = PROVINCE_COUNT + 1;

fn issuer_slot(i: Issuer) -> usize {
    match i {
        Issuer::Province(p) => p.index(),
        Issuer::National => PROVINCE_COUNT,
    }
}

/// What a province answers a cross-province scan it cannot verify because
/// the hub did not answer in time. Never a pass.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// "System busy, try again later".
    Busy,
    /// The checkpoint refers the holder to a manual check.
    Refer,
}

impl Unreachable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unreachable::Busy => "busy",
            Unreachable::Refer => "refer",
        }
    }
}

/// A permitted mapping to a more lenient color, for one named pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub issuer: Issuer,
    pub receiver: ProvinceId,
    pub from: Color,
    pub to: Color,
    pub reason: String,
    pub line: usize,
}

impl Allowance {
    pub fn issuer_key(&self) -> &'static str {
        match self.issuer {
            Issuer::Province(p) => p.key(),
            Issuer::National => "national",
        }
    }
}

#[derive(Clone, Debug)]
pub struct RecognitionPolicy {
    origin: String,
    /// [issuer][receiver][color index] → treated color.
    treat: Vec<[[Color; 5]; PROVINCE_COUNT]>,
    unreachable: [Unreachable; PROVINCE_COUNT],
    allowances: Vec<Allowance>,
}

impl Default for RecognitionPolicy {
    /// Every receiver takes every color as issued, and answers busy when
    /// the hub is unreachable.
    fn default() -> Self {
        RecognitionPolicy {
            origin: "(default)".into(),
            treat: vec![[ALL_COLORS; PROVINCE_COUNT]; ISSUERS],
            unreachable: [Unreachable::Busy; PROVINCE_COUNT],
            allowances: Vec::new(),
        }
    }
}

impl RecognitionPolicy {
    pub fn load(path: &Path) -> Result<RecognitionPolicy, RuleError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            RuleError::whole_file(&origin, format!("cannot read recognition policy: {e}"))
        })?;
        RecognitionPolicy::parse(&text, &origin)
    }

    pub fn parse(text: &str, origin: &str) -> Result<RecognitionPolicy, RuleError> {
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| RuleError::from_toml(origin, text, &e))?;
        let err = |span: std::ops::Range<usize>, field: &str, msg: String| {
            RuleError::at(origin, text, span, field, msg)
        };
        let mut policy = RecognitionPolicy {
            origin: origin.to_string(),
            ..RecognitionPolicy::default()
        };

        if let Some(u) = &raw.unreachable {
            let default = match &u.default {
                Some(s) => parse_unreachable(s.get_ref())
                    .ok_or_else(|| err(s.span(), "default", unknown_answer(s.get_ref())))?,
                None => Unreachable::Busy,
            };
            policy.unreachable = [default; PROVINCE_COUNT];
            for (list, answer, field) in [
                (&u.busy, Unreachable::Busy, "busy"),
                (&u.refer, Unreachable::Refer, "refer"),
            ] {
                for key in list {
                    let p = ProvinceId::parse(key.get_ref())
                        .ok_or_else(|| err(key.span(), field, unknown_province(key.get_ref())))?;
                    policy.unreachable[p.index()] = answer;
                }
            }
        }

        // Wildcard entries first, then half-named, then fully named pairs:
        // the most specific entry wins whatever the file order.
        let mut entries: Vec<(u8, usize, Entry)> = Vec::new();
        let mut named_pairs: Vec<((usize, usize), usize)> = Vec::new();
        for (k, t) in raw.treat.iter().enumerate() {
            let line = crate::rules::line_of(text, t.span().start);
            let t = t.get_ref();
            let issuer = match t.issuer.get_ref().as_str() {
                "*" => None,
                "national" => Some(Issuer::National),
                s => Some(Issuer::Province(ProvinceId::parse(s).ok_or_else(|| {
                    err(
                        t.issuer.span(),
                        "issuer",
                        format!("{}, or `national`, or `*`", unknown_province(s)),
                    )
                })?)),
            };
            let receiver = match t.receiver.get_ref().as_str() {
                "*" => None,
                s => Some(ProvinceId::parse(s).ok_or_else(|| {
                    err(
                        t.receiver.span(),
                        "receiver",
                        format!("{}, or `*`", unknown_province(s)),
                    )
                })?),
            };
            if let (Some(i), Some(r)) = (issuer, receiver) {
                let key = (issuer_slot(i), r.index());
                if let Some((_, first)) = named_pairs.iter().find(|(p, _)| *p == key) {
                    return Err(err(
                        t.receiver.span(),
                        "receiver",
                        format!(
                            "the pair {} → {} is already defined at line {first}",
                            t.issuer.get_ref(),
                            r.key()
                        ),
                    ));
                }
                named_pairs.push((key, line));
            }
            if let Some(reason) = &t.allow_lenient {
                if issuer.is_none() || receiver.is_none() || reason.get_ref().trim().is_empty() {
                    return Err(err(
                        reason.span(),
                        "allow_lenient",
                        "a more lenient mapping may only be allowed for a named issuer and \
                         receiver (no `*`), with a reason"
                            .into(),
                    ));
                }
            }
            let mut map = Vec::new();
            for (field, from, value) in t.colors() {
                let Some(value) = value else { continue };
                let to = Color::parse(value.get_ref()).ok_or_else(|| {
                    err(
                        value.span(),
                        field,
                        format!(
                            "unknown color `{}`, expected one of green, white, yellow, orange, red",
                            value.get_ref()
                        ),
                    )
                })?;
                if to.severity() < from.severity() {
                    let pair = format!("{} → {}", t.issuer.get_ref(), t.receiver.get_ref());
                    let Some(reason) = &t.allow_lenient else {
                        return Err(err(
                            value.span(),
                            field,
                            format!(
                                "{pair} maps {from} to the more lenient {to}; a stricter status \
                                 may never become a more lenient one unless this pair sets \
                                 allow_lenient = \"<reason>\""
                            ),
                        ));
                    };
                    policy.allowances.push(Allowance {
                        issuer: issuer.expect("checked: named"),
                        receiver: receiver.expect("checked: named"),
                        from,
                        to,
                        reason: reason.get_ref().clone(),
                        line: crate::rules::line_of(text, value.span().start),
                    });
                }
                map.push((from, to));
            }
            let rank = u8::from(issuer.is_some()) + u8::from(receiver.is_some());
            entries.push((
                rank,
                k,
                Entry {
                    issuer,
                    receiver,
                    map,
                },
            ));
        }
        entries.sort_by_key(|(rank, k, _)| (*rank, *k));
        for (_, _, e) in &entries {
            for (i, row) in policy.treat.iter_mut().enumerate() {
                if e.issuer.is_some_and(|x| issuer_slot(x) != i) {
                    continue;
                }
                for (r, cell) in row.iter_mut().enumerate() {
                    if e.receiver.is_some_and(|x| x.index() != r) {
                        continue;
                    }
                    for &(from, to) in &e.map {
                        cell[from.index()] = to;
                    }
                }
            }
        }
        Ok(policy)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The color `receiver` treats an `issuer` code of `color` as.
    pub fn treat(&self, issuer: Issuer, receiver: ProvinceId, color: Color) -> Color {
        self.treat[issuer_slot(issuer)][receiver.index()][color.index()]
    }

    /// What `receiver` answers when the hub does not answer in time.
    pub fn unreachable(&self, receiver: ProvinceId) -> Unreachable {
        self.unreachable[receiver.index()]
    }

    /// Mappings to a more lenient color this policy explicitly allows.
    pub fn allowances(&self) -> &[Allowance] {
        &self.allowances
    }
}

struct Entry {
    issuer: Option<Issuer>,
    receiver: Option<ProvinceId>,
    map: Vec<(Color, Color)>,
}

fn parse_unreachable(s: &str) -> Option<Unreachable> {
    match s {
        "busy" => Some(Unreachable::Busy),
        "refer" => Some(Unreachable::Refer),
        _ => None,
    }
}

fn unknown_answer(s: &str) -> String {
    format!("unknown answer `{s}`, expected `busy` or `refer` (never a pass)")
}

fn unknown_province(s: &str) -> String {
    format!(
        "unknown province `{s}`, expected one of {}",
        crate::region::province_keys()
    )
}

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    #[allow(dead_code)]
    title: Option<String>,
    #[serde(default)]
    unreachable: Option<RawUnreachable>,
    #[serde(default)]
    treat: Vec<S<RawTreat>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnreachable {
    default: Option<S<String>>,
    #[serde(default)]
    busy: Vec<S<String>>,
    #[serde(default)]
    refer: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTreat {
    issuer: S<String>,
    receiver: S<String>,
    green: Option<S<String>>,
    white: Option<S<String>>,
    yellow: Option<S<String>>,
    orange: Option<S<String>>,
    red: Option<S<String>>,
    allow_lenient: Option<S<String>>,
}

impl RawTreat {
    fn colors(&self) -> [(&'static str, Color, Option<&S<String>>); 5] {
        [
            ("green", Color::Green, self.green.as_ref()),
            ("white", Color::White, self.white.as_ref()),
            ("yellow", Color::Yellow, self.yellow.as_ref()),
            ("orange", Color::Orange, self.orange.as_ref()),
            ("red", Color::Red, self.red.as_ref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(key: &str) -> ProvinceId {
        ProvinceId::parse(key).unwrap()
    }

    const POLICY: &str = r#"
[unreachable]
default = "busy"
refer = ["guangdong"]

[[treat]]
issuer = "*"
receiver = "*"
white = "white"

[[treat]]
issuer = "fujian"
receiver = "guangdong"
orange = "red"

[[treat]]
issuer = "anhui"
receiver = "fujian"
yellow = "orange"

[[treat]]
issuer = "*"
receiver = "fujian"
yellow = "orange"
"#;

    #[test]
    fn verdict_examples_from_the_policy() {
        let pol = RecognitionPolicy::parse(POLICY, "t.toml").unwrap();
        let fujian = Issuer::Province(p("fujian"));
        let anhui = Issuer::Province(p("anhui"));
        assert_eq!(pol.treat(fujian, p("guangdong"), Color::Orange), Color::Red);
        assert_eq!(
            pol.treat(fujian, p("guangdong"), Color::Green),
            Color::Green
        );
        assert_eq!(pol.treat(anhui, p("fujian"), Color::Yellow), Color::Orange);
        assert_eq!(
            pol.treat(anhui, p("guangdong"), Color::Yellow),
            Color::Yellow
        );
        assert_eq!(
            pol.treat(Issuer::National, p("fujian"), Color::Yellow),
            Color::Orange
        );
        assert_eq!(pol.unreachable(p("guangdong")), Unreachable::Refer);
        assert_eq!(pol.unreachable(p("anhui")), Unreachable::Busy);
        assert!(pol.allowances().is_empty());
    }

    #[test]
    fn a_more_lenient_mapping_is_an_error_naming_file_line_and_field() {
        let text = "[[treat]]\nissuer = \"fujian\"\nreceiver = \"anhui\"\norange = \"yellow\"\n";
        let e = RecognitionPolicy::parse(text, "policy.toml").unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(e.field.as_deref(), Some("orange"));
        let shown = e.to_string();
        assert!(
            shown.starts_with("policy.toml:4: field `orange`:"),
            "{shown}"
        );
        assert!(shown.contains("more lenient yellow"), "{shown}");
    }

    #[test]
    fn an_allowed_lenient_pair_is_accepted_and_listed() {
        let text = "[[treat]]\nissuer = \"fujian\"\nreceiver = \"anhui\"\norange = \"yellow\"\n\
                    allow_lenient = \"bilateral agreement\"\n";
        let pol = RecognitionPolicy::parse(text, "policy.toml").unwrap();
        assert_eq!(
            pol.treat(Issuer::Province(p("fujian")), p("anhui"), Color::Orange),
            Color::Yellow
        );
        assert_eq!(
            pol.allowances(),
            &[Allowance {
                issuer: Issuer::Province(p("fujian")),
                receiver: p("anhui"),
                from: Color::Orange,
                to: Color::Yellow,
                reason: "bilateral agreement".into(),
                line: 4,
            }]
        );
    }

    #[test]
    fn allowances_need_a_named_pair() {
        let text = "[[treat]]\nissuer = \"*\"\nreceiver = \"anhui\"\nred = \"yellow\"\n\
                    allow_lenient = \"why\"\n";
        let e = RecognitionPolicy::parse(text, "policy.toml").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (5, Some("allow_lenient")));
    }

    #[test]
    fn bad_keys_and_values_name_their_line() {
        let e = RecognitionPolicy::parse(
            "[[treat]]\nissuer = \"atlantis\"\nreceiver = \"anhui\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("issuer")));
        let e =
            RecognitionPolicy::parse("[unreachable]\ndefault = \"pass\"\n", "x.toml").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("default")));
        let e = RecognitionPolicy::parse(
            "[[treat]]\nissuer = \"anhui\"\nreceiver = \"fujian\"\npurple = \"red\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (4, Some("purple")));
        let dup = "[[treat]]\nissuer = \"anhui\"\nreceiver = \"fujian\"\n\
                   [[treat]]\nissuer = \"anhui\"\nreceiver = \"fujian\"\n";
        let e = RecognitionPolicy::parse(dup, "x.toml").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (6, Some("receiver")));
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn a_half_named_entry_beats_a_wildcard_whatever_the_file_order() {
        // The wildcard comes last in the file, yet `* → anhui` names a side.
        let text = "[[treat]]\nissuer = \"*\"\nreceiver = \"anhui\"\nyellow = \"red\"\n\
                    [[treat]]\nissuer = \"*\"\nreceiver = \"*\"\nyellow = \"orange\"\n\
                    [[treat]]\nissuer = \"hubei\"\nreceiver = \"anhui\"\nyellow = \"orange\"\n";
        let pol = RecognitionPolicy::parse(text, "x.toml").unwrap();
        let hubei = Issuer::Province(p("hubei"));
        let fujian = Issuer::Province(p("fujian"));
        assert_eq!(pol.treat(fujian, p("anhui"), Color::Yellow), Color::Red);
        assert_eq!(
            pol.treat(Issuer::National, p("anhui"), Color::Yellow),
            Color::Red
        );
        assert_eq!(
            pol.treat(fujian, p("jiangsu"), Color::Yellow),
            Color::Orange
        );
        // Both sides named beats one side named.
        assert_eq!(pol.treat(hubei, p("anhui"), Color::Yellow), Color::Orange);
        assert_eq!(pol.treat(hubei, p("anhui"), Color::Red), Color::Red);
    }

    #[test]
    fn each_issuer_has_its_own_row() {
        // One named issuer per receiver: a policy that read every issuer
        // from one row would give all of them the same answer.
        let text = "[[treat]]\nissuer = \"beijing\"\nreceiver = \"anhui\"\ngreen = \"yellow\"\n\
                    [[treat]]\nissuer = \"tianjin\"\nreceiver = \"anhui\"\ngreen = \"red\"\n\
                    [[treat]]\nissuer = \"national\"\nreceiver = \"anhui\"\ngreen = \"orange\"\n";
        let pol = RecognitionPolicy::parse(text, "x.toml").unwrap();
        let gr = |i: Issuer| pol.treat(i, p("anhui"), Color::Green);
        assert_eq!(gr(Issuer::Province(p("beijing"))), Color::Yellow);
        assert_eq!(gr(Issuer::Province(p("tianjin"))), Color::Red);
        assert_eq!(gr(Issuer::National), Color::Orange);
        assert_eq!(gr(Issuer::Province(p("hebei"))), Color::Green);
        // The same issuer in another receiver is untouched.
        assert_eq!(
            pol.treat(Issuer::Province(p("tianjin")), p("hubei"), Color::Green),
            Color::Green
        );
        // `national` and a province are different pairs, never duplicates.
        let dup = "[[treat]]\nissuer = \"national\"\nreceiver = \"anhui\"\n\
                   [[treat]]\nissuer = \"beijing\"\nreceiver = \"anhui\"\n\
                   [[treat]]\nissuer = \"national\"\nreceiver = \"anhui\"\n";
        let e = RecognitionPolicy::parse(dup, "x.toml").unwrap_err();
        assert_eq!(e.line, 9);
        assert!(e.message.contains("national → anhui"), "{e}");
        assert!(e.message.contains("line 1"), "{e}");
    }

    #[test]
    fn the_unreachable_answer_default_and_lists() {
        let text = "[unreachable]\ndefault = \"refer\"\nbusy = [\"anhui\", \"hubei\"]\n";
        let pol = RecognitionPolicy::parse(text, "x.toml").unwrap();
        assert_eq!(pol.unreachable(p("anhui")), Unreachable::Busy);
        assert_eq!(pol.unreachable(p("hubei")), Unreachable::Busy);
        assert_eq!(pol.unreachable(p("beijing")), Unreachable::Refer);
        assert_eq!(pol.unreachable(p("xinjiang")), Unreachable::Refer);
        // No [unreachable] table, or no default: busy.
        let none = RecognitionPolicy::parse("", "x.toml").unwrap();
        assert_eq!(none.unreachable(p("beijing")), Unreachable::Busy);
        let listed =
            RecognitionPolicy::parse("[unreachable]\nrefer = [\"tibet\"]\n", "x.toml").unwrap();
        assert_eq!(listed.unreachable(p("tibet")), Unreachable::Refer);
        assert_eq!(listed.unreachable(p("beijing")), Unreachable::Busy);
        assert_eq!(Unreachable::Busy.as_str(), "busy");
        assert_eq!(Unreachable::Refer.as_str(), "refer");
    }

    #[test]
    fn error_messages_name_the_choices() {
        let e =
            RecognitionPolicy::parse("[unreachable]\ndefault = \"pass\"\n", "x.toml").unwrap_err();
        assert_eq!(
            e.message,
            "unknown answer `pass`, expected `busy` or `refer` (never a pass)"
        );
        let e =
            RecognitionPolicy::parse("[unreachable]\nbusy = [\"mars\"]\n", "x.toml").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (2, Some("busy")));
        assert!(
            e.message
                .starts_with("unknown province `mars`, expected one of ")
                && e.message.contains("anhui")
                && e.message.contains("guangdong"),
            "{e}"
        );
        let e = RecognitionPolicy::parse(
            "[[treat]]\nissuer = \"anhui\"\nreceiver = \"mars\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (3, Some("receiver")));
        assert!(
            e.message.starts_with("unknown province `mars`") && e.message.ends_with(", or `*`"),
            "{e}"
        );
    }

    #[test]
    fn an_allowance_needs_both_sides_named_and_a_reason() {
        for (issuer, receiver, reason) in [
            ("fujian", "*", "why"),
            ("*", "anhui", "why"),
            ("fujian", "anhui", "  "),
        ] {
            let text = format!(
                "[[treat]]\nissuer = \"{issuer}\"\nreceiver = \"{receiver}\"\n\
                 allow_lenient = \"{reason}\"\n"
            );
            let e = RecognitionPolicy::parse(&text, "x.toml").unwrap_err();
            assert_eq!(
                (e.line, e.field.as_deref()),
                (4, Some("allow_lenient")),
                "{issuer} → {receiver} `{reason}`"
            );
        }
        let text = "[[treat]]\nissuer = \"national\"\nreceiver = \"anhui\"\nred = \"green\"\n\
                    allow_lenient = \"cleared nationally\"\n";
        let pol = RecognitionPolicy::parse(text, "x.toml").unwrap();
        assert_eq!(pol.allowances().len(), 1);
        assert_eq!(pol.allowances()[0].issuer_key(), "national");
        let text = text.replace("\"national\"", "\"fujian\"");
        let pol = RecognitionPolicy::parse(&text, "x.toml").unwrap();
        assert_eq!(pol.allowances()[0].issuer_key(), "fujian");
    }

    #[test]
    fn the_policy_remembers_where_it_came_from() {
        assert_eq!(
            RecognitionPolicy::parse("", "scenarios/x.toml")
                .unwrap()
                .origin(),
            "scenarios/x.toml"
        );
        assert_eq!(RecognitionPolicy::default().origin(), "(default)");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/recognition/policy.toml");
        let pol = RecognitionPolicy::load(&path).unwrap();
        assert_eq!(pol.origin(), path.display().to_string());
        // Not the default: Fujian orange is red everywhere.
        assert_eq!(
            pol.treat(Issuer::Province(p("fujian")), p("beijing"), Color::Orange),
            Color::Red
        );
        let e = RecognitionPolicy::load(std::path::Path::new("/nonexistent/p.toml")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/p.toml: cannot read recognition policy:"),
            "{e}"
        );
    }

    #[test]
    fn the_shipped_policy_gives_the_seed_examples() {
        use crate::color::Decision;
        use crate::hub::{HubAnswer, HubLookup, HubQuery};
        use crate::identity::{DocKind, DocNumber, Identity, NameCode};
        use crate::province::ProvincePlatform;
        use crate::rules::RuleSet;
        use std::sync::Arc;

        let pol = Arc::new(
            RecognitionPolicy::parse(
                include_str!("../../scenarios/recognition/policy.toml"),
                "policy.toml",
            )
            .unwrap(),
        );
        let rules = |text: &str| Arc::new(RuleSet::parse(text, "r").unwrap());
        let guangdong = rules(include_str!("../../scenarios/rules/guangdong.toml"));
        let fujian = rules(include_str!("../../scenarios/rules/fujian.toml"));
        let who = Identity {
            doc: DocKind::IdCard,
            number: DocNumber(35010019800101001),
            name: NameCode::new(1, 2, None),
            age: 30,
        };
        let verdict = |x: &mut ProvincePlatform, issuer: &str, color: Color| {
            let code = crate::token::CodeKeys::default().sign(Issuer::Province(p(issuer)), 1);
            let q = HubQuery {
                from: x.province(),
                lookup: HubLookup::Code(code),
            };
            let a = HubAnswer::Status {
                code,
                holder: who.masked(),
                color,
                explanation: None,
                nat: None,
            };
            match x.finish_remote(crate::time::Minute(0), &q, a) {
                crate::api::Response::Verdict(v) => (v.color, v.decision),
                other => panic!("{other:?}"),
            }
        };
        let mut gd =
            ProvincePlatform::new(p("guangdong"), guangdong.clone()).with_recognition(pol.clone());
        let mut fj = ProvincePlatform::new(p("fujian"), fujian).with_recognition(pol.clone());
        // Fujian orange in Guangdong: refused as red (the holder's color is shown).
        assert_eq!(
            verdict(&mut gd, "fujian", Color::Orange),
            (Color::Orange, Decision::Refuse)
        );
        // Without the policy Guangdong would only refer it (by severity).
        let mut plain = ProvincePlatform::new(p("guangdong"), guangdong);
        assert_eq!(
            verdict(&mut plain, "fujian", Color::Orange).1,
            Decision::Refer
        );
        // Anhui yellow in Fujian: orange, which Fujian refuses.
        assert_eq!(
            verdict(&mut fj, "anhui", Color::Yellow),
            (Color::Yellow, Decision::Refuse)
        );
        assert_eq!(
            verdict(&mut fj, "anhui", Color::Green),
            (Color::Green, Decision::Pass)
        );
        // Hub unreachable: never a pass.
        let q = HubQuery {
            from: p("guangdong"),
            lookup: HubLookup::Document(who.number),
        };
        assert_eq!(
            gd.finish_remote(crate::time::Minute(0), &q, HubAnswer::Unreachable),
            crate::api::Response::Refused(crate::api::Refusal::HubUnreachable)
        );
        assert!(pol.allowances().is_empty());
    }
}
