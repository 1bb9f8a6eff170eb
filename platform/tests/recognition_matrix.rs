//! The shipped recognition policy walked whole: for every issuer (31
//! provinces and the national code) × receiving province × colour, the
//! colour `RecognitionPolicy::treat` gives must be the one read from the
//! file here, by a reading written independently of `recognition.rs`: a
//! plain TOML walk over the `[[treat]]` entries, the most specific entry
//! that maps the colour winning (both sides named over one over none), a
//! later entry over an earlier one of the same specificity, and a colour no
//! entry maps kept as issued. The `[unreachable]` answer of every receiver
//! is read the same way.

use hcsim_platform::api::Issuer;
use hcsim_platform::color::ALL_COLORS;
use hcsim_platform::recognition::{RecognitionPolicy, Unreachable};
use hcsim_platform::{ProvinceId, PROVINCES};
use std::path::Path;

const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/recognition/policy.toml"
);

fn issuers() -> Vec<(String, Issuer)> {
    let mut v: Vec<(String, Issuer)> = ProvinceId::all()
        .map(|p| (p.key().to_string(), Issuer::Province(p)))
        .collect();
    v.push(("national".to_string(), Issuer::National));
    v
}

/// The colour `receiver` reads an `issuer` code of `color` as, from the
/// file's text alone.
fn expected(file: &toml::Table, issuer: &str, receiver: &str, color: &str) -> String {
    let entries = file.get("treat").and_then(|t| t.as_array());
    let mut best: Option<(usize, usize, String)> = None;
    for (k, e) in entries.into_iter().flatten().enumerate() {
        let side = |name: &str, key: &str| match e.get(name).and_then(|v| v.as_str()) {
            Some("*") => Some(0),
            Some(s) if s == key => Some(1),
            _ => None,
        };
        let (Some(i), Some(r)) = (side("issuer", issuer), side("receiver", receiver)) else {
            continue;
        };
        let Some(to) = e.get(color).and_then(|v| v.as_str()) else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|(rank, at, _)| (i + r, k) > (*rank, *at))
        {
            best = Some((i + r, k, to.to_string()));
        }
    }
    best.map_or_else(|| color.to_string(), |(_, _, to)| to)
}

fn expected_unreachable(file: &toml::Table, receiver: &str) -> &'static str {
    let Some(u) = file.get("unreachable") else {
        return "busy";
    };
    let listed = |name: &str| {
        u.get(name)
            .and_then(|v| v.as_array())
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(receiver)))
    };
    if listed("refer") {
        "refer"
    } else if listed("busy") {
        "busy"
    } else {
        match u.get("default").and_then(|v| v.as_str()) {
            Some("refer") => "refer",
            _ => "busy",
        }
    }
}

#[test]
fn every_issuer_receiver_and_colour_is_treated_as_the_policy_file_says() {
    let text = std::fs::read_to_string(POLICY).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let policy = RecognitionPolicy::load(Path::new(POLICY)).unwrap();
    let (mut cells, mut mapped, mut wrong) = (0, 0, Vec::new());
    for (issuer_key, issuer) in issuers() {
        for receiver in ProvinceId::all() {
            for color in ALL_COLORS {
                let want = expected(&file, &issuer_key, receiver.key(), color.as_str());
                let got = policy.treat(issuer, receiver, color);
                cells += 1;
                mapped += usize::from(want != color.as_str());
                if got.as_str() != want {
                    wrong.push(format!(
                        "{issuer_key} {color} in {}: {got}, the file says {want}",
                        receiver.key()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(cells, 32 * 31 * 5);
    // The walk went through cells the file changes, not only identities:
    // `*` → fujian yellow alone maps 31 issuers' yellow.
    assert!(mapped > 31, "{mapped}");

    let mut refer = 0;
    for receiver in ProvinceId::all() {
        let got = match policy.unreachable(receiver) {
            Unreachable::Busy => "busy",
            Unreachable::Refer => "refer",
        };
        assert_eq!(
            got,
            expected_unreachable(&file, receiver.key()),
            "{}",
            receiver.key()
        );
        refer += usize::from(got == "refer");
    }
    assert!(refer > 0 && refer < PROVINCES.len());
}
