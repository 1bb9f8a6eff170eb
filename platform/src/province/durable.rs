//! The durable log a provincial platform recovers from after a crash.
//!
//! Every change to the platform's state — a registration, a journal entry,
//! a fact waiting for its person to register, a county risk level, a family
//! link — is appended as one frame before the request that caused it is
//! acknowledged:
//!
//! ```text
//! [payload length: u32 LE][CRC-32 of payload: u32 LE][payload: postcard]
//! ```
//!
//! The log is a byte vector behind a shared handle rather than a file: the
//! platform crate does no I/O, the bytes are exactly what a file would hold,
//! and a restarted platform (a new actor) replays the same handle. A crash
//! can leave the frame being written half on the log; it was never
//! acknowledged, and `read` drops it (a short frame or a CRC mismatch ends
//! the log).

use super::journal::Record;
use super::ProvincePlatform;
use crate::api::{CountyRef, Relation, RiskLevel};
use crate::identity::{DocNumber, Identity};
use crate::region::ProvinceId;
use crate::rules::RuleSet;
use crate::time::Minute;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, MutexGuard};

/// One change to a platform's state, in the order it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum LogEntry {
    /// A person was added (serial = number of `Registered` before it).
    Registered { identity: Identity },
    /// A journal entry about the person with this serial.
    Journaled {
        person: u32,
        at: Minute,
        record: Record,
    },
    /// A fact about a document nobody has registered yet.
    Pending {
        document: DocNumber,
        at: Minute,
        record: Record,
    },
    Risk {
        county: CountyRef,
        at: Minute,
        level: RiskLevel,
    },
    Family {
        proxy: u32,
        member: u32,
        relation: Relation,
    },
}

const HEADER: usize = 8;

/// The append-only byte log, shared by the platform that writes it and
/// whoever restarts that platform.
#[derive(Clone, Default)]
pub struct DurableLog {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl std::fmt::Debug for DurableLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DurableLog({} bytes)", self.len_bytes())
    }
}

impl DurableLog {
    pub fn new() -> DurableLog {
        DurableLog::default()
    }

    /// A log holding `bytes`, as read back from storage.
    pub fn from_bytes(bytes: Vec<u8>) -> DurableLog {
        DurableLog {
            bytes: Arc::new(Mutex::new(bytes)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A writer that panicked left whole frames or a torn tail, which
        // `read` handles: the bytes stay usable.
        self.bytes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn append(&self, entry: &LogEntry) {
        let payload = postcard::to_stdvec(entry).expect("log entries always serialize");
        let mut bytes = self.lock();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
    }

    /// Cuts the log back to its first `len` bytes (the torn tail).
    fn truncate(&self, len: usize) {
        self.lock().truncate(len);
    }

    pub fn len_bytes(&self) -> usize {
        self.lock().len()
    }

    /// A copy of the bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// The crash caught a write half-way: the first half of a frame that
    /// would have followed reaches the log. Its request was never answered.
    pub fn tear(&self) {
        let payload = postcard::to_stdvec(&LogEntry::Risk {
            county: CountyRef {
                province: ProvinceId(0),
                county: 0,
            },
            at: Minute::ZERO,
            level: RiskLevel::High,
        })
        .expect("log entries always serialize");
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        frame.truncate(HEADER + payload.len() / 2);
        self.lock().extend_from_slice(&frame);
    }
}

/// What a log holds: its whole frames, and the bytes after the last one.
pub(crate) struct Replayed {
    pub entries: Vec<LogEntry>,
    pub torn_bytes: usize,
}

pub(crate) fn read(bytes: &[u8]) -> Replayed {
    let mut entries = Vec::new();
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + HEADER) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let Some(payload) = bytes.get(at + HEADER..at + HEADER + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        match postcard::from_bytes::<LogEntry>(payload) {
            Ok(e) => entries.push(e),
            Err(_) => break,
        }
        at += HEADER + len;
    }
    Replayed {
        entries,
        torn_bytes: bytes.len() - at,
    }
}

/// What a recovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Log frames replayed.
    pub entries: u64,
    /// Journal records rebuilt (declarations, temperatures, facts).
    pub records: u64,
    pub registered: u64,
    /// Bytes of a torn last frame, dropped.
    pub torn_bytes: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecoverError {
    #[error("durable log frame {frame}: journal entry for person {person}, but only {registered} are registered")]
    UnknownPerson {
        frame: usize,
        person: u32,
        registered: usize,
    },
}

impl ProvincePlatform {
    /// Rebuilds a crashed platform from its durable log, as of `now`, and
    /// keeps writing to the same log. Every person's status is published
    /// again, so the hub catches up with what changed while it was down.
    pub fn recover(
        province: ProvinceId,
        rules: Arc<RuleSet>,
        log: DurableLog,
        now: Minute,
    ) -> Result<(ProvincePlatform, Recovery), RecoverError> {
        let bytes = log.bytes();
        let replayed = read(&bytes);
        // New frames go after the last whole one, not after the torn tail.
        log.truncate(bytes.len() - replayed.torn_bytes);
        let mut p = ProvincePlatform::new(province, rules);
        let mut recovery = Recovery {
            entries: replayed.entries.len() as u64,
            torn_bytes: replayed.torn_bytes as u64,
            ..Recovery::default()
        };
        for (frame, entry) in replayed.entries.into_iter().enumerate() {
            match entry {
                LogEntry::Registered { identity } => {
                    p.add_person(&identity);
                    // Its pending facts were journaled right after, as
                    // `Journaled` frames.
                    p.side.pending.remove(&identity.number);
                    recovery.registered += 1;
                }
                LogEntry::Journaled { person, at, record } => {
                    let i = person as usize;
                    let Some(head) = p.people.get_mut(i).map(|x| &mut x.head) else {
                        return Err(RecoverError::UnknownPerson {
                            frame,
                            person,
                            registered: p.people.len(),
                        });
                    };
                    p.journal.append(head, at, record);
                    p.note_side(i, at, &record);
                    recovery.records += 1;
                }
                LogEntry::Pending {
                    document,
                    at,
                    record,
                } => p
                    .side
                    .pending
                    .entry(document)
                    .or_default()
                    .push((at, record)),
                LogEntry::Risk { county, at, level } => p.risk.set(county, at, level),
                LogEntry::Family {
                    proxy,
                    member,
                    relation,
                } => p
                    .side
                    .family
                    .entry(proxy)
                    .or_default()
                    .push((member, relation)),
            }
        }
        for i in 0..p.people.len() {
            p.replay(i, now);
            p.schedule_release(i);
        }
        p.log = Some(log);
        Ok((p, recovery))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u32) -> LogEntry {
        LogEntry::Journaled {
            person: n,
            at: Minute(n),
            record: Record::Credit,
        }
    }

    #[test]
    fn reads_back_every_whole_frame() {
        let log = DurableLog::new();
        for n in 0..5 {
            log.append(&entry(n));
        }
        let r = read(&log.bytes());
        assert_eq!(r.entries, (0..5).map(entry).collect::<Vec<_>>());
        assert_eq!(r.torn_bytes, 0);
    }

    #[test]
    fn a_torn_last_frame_is_dropped() {
        let log = DurableLog::new();
        log.append(&entry(1));
        log.append(&entry(2));
        let whole = log.len_bytes();
        log.tear();
        let r = read(&log.bytes());
        assert_eq!(r.entries, vec![entry(1), entry(2)]);
        assert_eq!(r.torn_bytes, log.len_bytes() - whole);
        assert!(r.torn_bytes > 0);
    }

    #[test]
    fn a_corrupted_frame_ends_the_log() {
        let log = DurableLog::new();
        log.append(&entry(1));
        let first = log.len_bytes();
        log.append(&entry(2));
        let mut bytes = log.bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let r = read(&bytes);
        assert_eq!(r.entries, vec![entry(1)]);
        assert_eq!(r.torn_bytes, bytes.len() - first);
    }

    #[test]
    fn every_cut_of_a_log_reads_a_prefix() {
        let log = DurableLog::new();
        for n in 0..4 {
            log.append(&entry(n * 1000));
        }
        let bytes = log.bytes();
        let mut last = 0;
        for cut in 0..=bytes.len() {
            let r = read(&bytes[..cut]);
            assert!(r.entries.len() >= last);
            last = r.entries.len();
            assert_eq!(
                r.entries,
                (0..r.entries.len() as u32)
                    .map(|n| entry(n * 1000))
                    .collect::<Vec<_>>()
            );
        }
        assert_eq!(last, 4);
    }
}
