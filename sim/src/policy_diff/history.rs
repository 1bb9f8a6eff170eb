//! One exchange concerning a citizen, in words: what was sent and what the
//! platform answered, for the policy diff's example histories.

use hcsim_platform::api::{Credential, DeciCelsius, Feed, Place, Request, Response};
use hcsim_platform::Minute;
use hcsim_reports::policy_diff::HistoryEntry;

pub fn entry(now: Minute, request: &Request, response: &Response) -> HistoryEntry {
    HistoryEntry {
        at: now.to_string(),
        event: event(request),
        answer: answer(response),
    }
}

fn celsius(t: DeciCelsius) -> String {
    format!("{}.{} °C", t.0 / 10, t.0 % 10)
}

fn place(p: &Place) -> String {
    format!(
        "{} in {} county {}",
        p.kind.as_str(),
        p.county.province.key(),
        p.county.county
    )
}

fn event(request: &Request) -> String {
    match request {
        Request::Apply { .. } | Request::ApplyFamily { .. } => "applies for a code".into(),
        Request::Declare {
            temperature,
            symptoms,
            contact,
            ..
        } => {
            let mut s = format!("daily check-in, {}", celsius(*temperature));
            if *symptoms {
                s.push_str(", symptoms");
            }
            if *contact {
                s.push_str(", contact");
            }
            s
        }
        Request::Temperature {
            temperature,
            place: p,
            ..
        } => format!("temperature {} at {}", celsius(*temperature), place(p)),
        Request::Verify {
            credential,
            place: p,
            temperature,
        } => {
            let how = match credential {
                Credential::Code(_) => "code",
                Credential::IdCard(_) => "ID card",
                Credential::Offline { .. } => "offline code",
            };
            let mut s = format!("{how} scanned at {}", place(p));
            if let Some(t) = temperature {
                s.push_str(&format!(", {}", celsius(*t)));
            }
            s
        }
        Request::PlaceScan { place: p, .. } => format!("scans the place code at {}", place(p)),
        Request::Query { .. } => "opens the code".into(),
        Request::Offline { .. } => "saves the code offline".into(),
        Request::Records { .. } => "reads the records".into(),
        Request::Feed { feed, .. } => feed_event(feed),
        Request::IntlDeclare { .. } | Request::IntlStatus { .. } => "international code".into(),
        Request::Inbound(_) => "inbound traveller service".into(),
    }
}

fn feed_event(feed: &Feed) -> String {
    // Never the document number: no full ID number goes into a report.
    match feed {
        Feed::Stay { county, at, .. } => format!(
            "carriers: stayed in {} county {} since {at}",
            county.province.key(),
            county.county
        ),
        Feed::Designation { status, at, .. } => {
            format!("authority: designated {} at {at}", snake(status))
        }
        Feed::Quarantine {
            kind, start, end, ..
        } => format!("authority: {} quarantine {start} → {end}", snake(kind)),
        Feed::NatResult { positive, at, .. } => format!(
            "authority: NAT {} (sampled {at})",
            if *positive { "positive" } else { "negative" }
        ),
        Feed::IggResult { positive, .. } => format!(
            "authority: IgG {}",
            if *positive { "positive" } else { "negative" }
        ),
        Feed::SameBuildingCase { .. } => "authority: a case in the same building".into(),
        Feed::RiskArea { county, level, .. } => format!(
            "risk level of {} county {}: {}",
            county.province.key(),
            county.county,
            snake(level)
        ),
        Feed::Entry { .. } => "immigration: entered China".into(),
        Feed::Roaming { at, .. } => format!("carriers: roamed abroad at {at}"),
        Feed::CreditViolation { .. } => "credit record: violation".into(),
        Feed::AuthorityColor { color, .. } => format!("authority: designated {color}"),
    }
}

/// A value's serde name (`close_contact`, `home`, `medium`).
fn snake<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn answer(response: &Response) -> String {
    match response {
        Response::Issued { color, .. } => format!("issued {color}"),
        Response::Recorded { color, .. } => format!("recorded; code {color}"),
        Response::Verdict(v) => {
            let mut s = format!("{} ({})", v.decision, v.color);
            if v.via_hub {
                s.push_str(" via hub");
            }
            if let Some(e) = &v.explanation {
                s.push_str(&format!(": {}", e.reason));
            }
            s
        }
        Response::Health {
            color, explanation, ..
        } => match explanation {
            Some(e) => format!("{color}: {}", e.reason),
            None => color.to_string(),
        },
        Response::OfflineCode { color, .. } => format!("offline code {color}"),
        Response::Refused(r) => format!("refused: {r:?}"),
        Response::Records { records, .. } => format!("{} records", records.len()),
        Response::IntlRecorded { .. } | Response::IntlStatus(_) => "international status".into(),
        Response::Inbound(_) => "inbound service answer".into(),
        Response::Ack => "acknowledged".into(),
        Response::Busy => "system busy".into(),
    }
}
