//! Invariants that need no history: privacy of every answer, the
//! checkpoint table, offline-code expiry.

use hcsim_platform::api::{CheckpointKind, Credential, Refusal, Response};
use hcsim_platform::identity::{is_masked_document, MaskedIdentity};
use hcsim_platform::{Decision, Minute};

fn decision_rank(d: Decision) -> u8 {
    match d {
        Decision::Pass => 0,
        Decision::Refer => 1,
        Decision::Refuse => 2,
    }
}

/// True when `a` lets more people through than `b`.
pub fn more_lenient(a: Decision, b: Decision) -> bool {
    decision_rank(a) < decision_rank(b)
}

fn holder_masked(h: &MaskedIdentity) -> Result<(), String> {
    if !is_masked_document(h.document()) {
        return Err(format!("document `{}` is not masked", h.document()));
    }
    // Masked names keep the surname and at most the last character, with
    // the rest replaced by `*`.
    if !h.name().contains('*') {
        return Err(format!("name `{}` is not masked", h.name()));
    }
    Ok(())
}

/// A run of 15 or more digits is a full ID number (15- or 18-digit).
fn has_full_number(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 15 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// A forged code gets no color: the answer to a request presenting one
/// shows no holder, no color and no record.
pub fn forged_code_uncolored(r: &Response) -> Result<(), String> {
    match r {
        Response::Refused(_) | Response::Busy => Ok(()),
        other => Err(format!(
            "a forged code was answered `{}`",
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("result").and_then(|r| r.as_str().map(str::to_string)))
                .unwrap_or_else(|| "?".into())
        )),
    }
}

/// Every person shown in an answer is masked, and no message carries a
/// full ID number.
pub fn privacy(r: &Response) -> Result<(), String> {
    match r {
        Response::Verdict(v) => holder_masked(&v.holder),
        Response::Health { holder, .. } => holder_masked(holder),
        Response::IntlStatus(s) | Response::IntlRecorded { status: s, .. } => {
            holder_masked(&s.holder)?;
            s.proxied.iter().try_for_each(holder_masked)
        }
        Response::Refused(Refusal::Other { message })
        | Response::Refused(Refusal::ProxyNotAllowed { message })
            if has_full_number(message) =>
        {
            Err(format!("refusal message carries a full number: {message}"))
        }
        _ => Ok(()),
    }
}

/// Where a person under a quarantine order may still be scanned: a fever
/// clinic (hospitals take red holders), and the port of entry that puts an
/// arrival from abroad into quarantine on landing.
pub fn allowed_in_quarantine(kind: CheckpointKind) -> bool {
    matches!(kind, CheckpointKind::Hospital | CheckpointKind::Airport)
}

/// Whether an offline credential is past its validity (or dated in the
/// future) under the scanning province's `offline_valid_hours`.
pub fn offline_expired(c: &Credential, now: Minute, valid_hours: u32) -> bool {
    match c {
        Credential::Offline { issued, .. } => {
            *issued > now || now >= issued.plus_hours(valid_hours)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_full_numbers() {
        assert!(has_full_number("id 110105194912310021 locked"));
        assert!(!has_full_number("110***********0021"));
        assert!(!has_full_number("quarantine ends (12345) before"));
    }

    #[test]
    fn offline_codes_expire_at_validity() {
        let code = hcsim_platform::CodeId {
            issuer: hcsim_platform::Issuer::National,
            serial: 1,
            token: Default::default(),
        };
        let c = Credential::Offline {
            code,
            issued: Minute(1000),
            color: hcsim_platform::Color::Green,
            seal: Default::default(),
        };
        assert!(!offline_expired(&c, Minute(1000 + 24 * 60 - 1), 24));
        assert!(offline_expired(&c, Minute(1000 + 24 * 60), 24));
        assert!(offline_expired(&c, Minute(999), 24));
    }
}
