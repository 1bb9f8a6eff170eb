//! The platform's operations, named after GB/T 38963-2020 (application
//! interface): code generation (apply), user health declaration, trip
//! declaration, health-information query, code verification, plus the data
//! feeds the health authority and immigration push in.
//!
//! Requests and responses are plain data so that every way of reaching the
//! platform (in-process, actix actors, HTTP) carries the same thing.

use crate::color::{Color, Decision};
use crate::identity::{DocNumber, Identity, MaskedIdentity};
use crate::region::ProvinceId;
use crate::time::Minute;
use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Who issued a code: a provincial platform or the national hub.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Issuer {
    Province(ProvinceId),
    National,
}

/// The payload of a health code: issuer, the issuer's record serial, and
/// the token that only the issuer's key gives that serial (`token.rs`).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
pub struct CodeId {
    pub issuer: Issuer,
    pub serial: u32,
    pub token: crate::token::Token,
}

/// A county: province plus an index into that province's counties.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
pub struct CountyRef {
    pub province: ProvinceId,
    pub county: u16,
}

#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// The 15 checkpoint types of DOMAIN.md.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointKind {
    Airport,
    TrainStation,
    BusStation,
    Hospital,
    Hotel,
    BuildingSite,
    TrafficCheckpoint,
    Office,
    Factory,
    School,
    Bank,
    Restaurant,
    Mall,
    Venue,
    Community,
}

pub const CHECKPOINT_KINDS: [CheckpointKind; 15] = [
    CheckpointKind::Airport,
    CheckpointKind::TrainStation,
    CheckpointKind::BusStation,
    CheckpointKind::Hospital,
    CheckpointKind::Hotel,
    CheckpointKind::BuildingSite,
    CheckpointKind::TrafficCheckpoint,
    CheckpointKind::Office,
    CheckpointKind::Factory,
    CheckpointKind::School,
    CheckpointKind::Bank,
    CheckpointKind::Restaurant,
    CheckpointKind::Mall,
    CheckpointKind::Venue,
    CheckpointKind::Community,
];

impl CheckpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointKind::Airport => "airport",
            CheckpointKind::TrainStation => "train_station",
            CheckpointKind::BusStation => "bus_station",
            CheckpointKind::Hospital => "hospital",
            CheckpointKind::Hotel => "hotel",
            CheckpointKind::BuildingSite => "building_site",
            CheckpointKind::TrafficCheckpoint => "traffic_checkpoint",
            CheckpointKind::Office => "office",
            CheckpointKind::Factory => "factory",
            CheckpointKind::School => "school",
            CheckpointKind::Bank => "bank",
            CheckpointKind::Restaurant => "restaurant",
            CheckpointKind::Mall => "mall",
            CheckpointKind::Venue => "venue",
            CheckpointKind::Community => "community",
        }
    }
    pub fn parse(s: &str) -> Option<CheckpointKind> {
        CHECKPOINT_KINDS.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a scan happens.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
pub struct Place {
    pub county: CountyRef,
    pub kind: CheckpointKind,
}

/// Body temperature in tenths of a degree Celsius (373 = 37.3 °C).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(transparent)]
pub struct DeciCelsius(pub u16);

impl DeciCelsius {
    pub const NORMAL: DeciCelsius = DeciCelsius(365);
}

/// What a person shows at a checkpoint.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// A live code on the holder's phone (or a proxy's phone).
    Code(CodeId),
    /// People without a smartphone show their ID card; staff scan it.
    IdCard(DocNumber),
    /// A code saved for offline display: valid only until it expires.
    /// `seal` is the issuer's MAC over code, `issued` and `color`
    /// (`token.rs`), so an edited offline code is refused as forged.
    Offline {
        code: CodeId,
        issued: Minute,
        color: Color,
        seal: crate::token::Token,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Parent,
    Child,
    Spouse,
    Relative,
}

/// Case statuses the health authority designates.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Confirmed,
    Suspected,
    Asymptomatic,
    CloseContact,
    /// Released by the authority (recovered, excluded): clears the designation.
    Cleared,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineKind {
    Centralized,
    Home,
}

/// Data pushed by the health authority, immigration and carriers. Addressed by
/// document number, because that is how those systems know a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "feed", rename_all = "snake_case")]
pub enum Feed {
    Designation {
        person: DocNumber,
        status: CaseStatus,
        at: Minute,
    },
    Quarantine {
        person: DocNumber,
        kind: QuarantineKind,
        start: Minute,
        end: Minute,
    },
    NatResult {
        person: DocNumber,
        at: Minute,
        positive: bool,
        institution: u16,
    },
    IggResult {
        person: DocNumber,
        at: Minute,
        positive: bool,
    },
    /// A confirmed case in the same stairwell or office area.
    SameBuildingCase { person: DocNumber, at: Minute },
    /// Telecom/travel record: the person stayed in this county (≥ 4 h).
    Stay {
        person: DocNumber,
        county: CountyRef,
        at: Minute,
    },
    /// A county's risk level changes. Broadcast to every platform.
    RiskArea {
        county: CountyRef,
        level: RiskLevel,
        at: Minute,
    },
    /// Immigration: the person entered China.
    Entry {
        person: DocNumber,
        at: Minute,
        origin_country: u16,
        port: CountyRef,
        flight: u32,
    },
    /// Carriers: the person's phone roamed in a foreign country (the
    /// telecom record the overseas itinerary declaration is checked against).
    Roaming {
        person: DocNumber,
        country: u16,
        at: Minute,
    },
    /// A false declaration or use of someone else's code (Qinghai credit record).
    CreditViolation { person: DocNumber, at: Minute },
    /// The health authority puts a person into a color directly ("other
    /// persons designated red/yellow" in the Anhui rules).
    AuthorityColor {
        person: DocNumber,
        color: Color,
        at: Minute,
    },
}

impl Feed {
    /// The person the feed is about; `None` for broadcasts (risk areas).
    pub fn person(&self) -> Option<DocNumber> {
        match self {
            Feed::Designation { person, .. }
            | Feed::Quarantine { person, .. }
            | Feed::NatResult { person, .. }
            | Feed::IggResult { person, .. }
            | Feed::SameBuildingCase { person, .. }
            | Feed::Stay { person, .. }
            | Feed::Entry { person, .. }
            | Feed::Roaming { person, .. }
            | Feed::CreditViolation { person, .. }
            | Feed::AuthorityColor { person, .. } => Some(*person),
            Feed::RiskArea { .. } => None,
        }
    }
}

/// One request to the platform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// 码生成: real-name registration; identity and document type lock here.
    Apply {
        province: ProvinceId,
        identity: Identity,
        face_verified: bool,
        national: bool,
    },
    /// Apply for a family member (Fujian: up to 13 by relation).
    ApplyFamily {
        proxy: CodeId,
        member: Identity,
        relation: Relation,
    },
    /// 健康申报 / 健康打卡: the daily declaration and check-in. Append-only.
    Declare {
        code: CodeId,
        temperature: DeciCelsius,
        symptoms: bool,
        contact: bool,
    },
    /// A temperature taken by staff or a kiosk, not a verification.
    Temperature {
        code: CodeId,
        temperature: DeciCelsius,
        place: Place,
    },
    /// 码核验 at a checkpoint, by code or by ID card.
    Verify {
        credential: Credential,
        place: Place,
        temperature: Option<DeciCelsius>,
    },
    /// Qinghai: the person scans the place code and adds their temperature.
    PlaceScan {
        code: CodeId,
        place: Place,
        temperature: DeciCelsius,
    },
    /// 健康信息查询: the holder looks at their own code.
    Query { code: CodeId },
    /// Save the current code for offline display.
    Offline { code: CodeId },
    /// Data for the platform where the person is registered; `to: None`
    /// broadcasts to every platform (risk areas).
    Feed { to: Option<ProvinceId>, feed: Feed },
    /// The holder's append-only journal (declarations, temperature records,
    /// data received): what an invariant checker reads back to confirm that
    /// every acknowledged `seq` exists.
    Records { code: CodeId },
    /// International version: one daily health declaration before a flight
    /// to China. `subject` is set when a verified proxy files for an elderly
    /// person or a child; `account` is always the filer's own.
    IntlDeclare {
        account: u64,
        identity: Identity,
        subject: Option<Identity>,
        declaration: IntlDeclaration,
    },
    /// International version: validity, streak and trip-risk alerts of the
    /// filer's own code, or of a proxied person's (`subject`).
    IntlStatus {
        account: u64,
        subject: Option<DocNumber>,
    },
    /// Inbound-traveller services of the national hub.
    Inbound(InboundRequest),
}

/// The national hub's services for people entering China.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "service", rename_all = "snake_case")]
pub enum InboundRequest {
    /// 入境查询: did the person enter China in the last 14 days, when, from where.
    EntryQuery { person: DocNumber },
    /// 境外行程申报: the countries the person declares for the last 14 days,
    /// checked against immigration and the carriers' roaming record.
    ItineraryDeclare {
        person: DocNumber,
        countries: Vec<u16>,
    },
    /// 同航班自查: was a confirmed or suspected case on one of the person's
    /// inbound flights of the last 14 days? A match designates the person a
    /// close contact.
    SameFlightCheck { person: DocNumber },
}

/// One entry into China as immigration recorded it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct EntryView {
    pub at: Minute,
    pub origin_country: u16,
    pub port: CountyRef,
    pub flight: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum InboundAnswer {
    /// Entries of the last 14 days, oldest first.
    Entries { entries: Vec<EntryView> },
    /// Countries on record for the last 14 days that the declaration left
    /// out; non-empty means concealment is flagged.
    Itinerary { concealed: Vec<u16> },
    /// Inbound flights of the last 14 days that carried a confirmed or
    /// suspected case; non-empty means the person is now a close contact.
    SameFlight { flights: Vec<u32> },
}

impl Request {
    /// The code the request presents, whose token must verify before the
    /// request is served.
    pub fn code(&self) -> Option<CodeId> {
        match self {
            Request::ApplyFamily { proxy: code, .. }
            | Request::Declare { code, .. }
            | Request::Temperature { code, .. }
            | Request::PlaceScan { code, .. }
            | Request::Query { code }
            | Request::Offline { code }
            | Request::Records { code }
            | Request::Verify {
                credential: Credential::Code(code) | Credential::Offline { code, .. },
                ..
            } => Some(*code),
            Request::Apply { .. }
            | Request::Verify { .. }
            | Request::Feed { .. }
            | Request::IntlDeclare { .. }
            | Request::IntlStatus { .. }
            | Request::Inbound(_) => None,
        }
    }

    pub fn op(&self) -> Op {
        match self {
            Request::Apply { .. } | Request::ApplyFamily { .. } => Op::Apply,
            Request::Declare { .. } | Request::Temperature { .. } => Op::Declare,
            Request::Verify { .. } | Request::PlaceScan { .. } => Op::Verify,
            Request::Query { .. } | Request::Offline { .. } | Request::Records { .. } => Op::Query,
            Request::Feed { .. } => Op::Feed,
            Request::IntlDeclare { .. } => Op::Declare,
            Request::IntlStatus { .. } => Op::Query,
            Request::Inbound(InboundRequest::ItineraryDeclare { .. }) => Op::Declare,
            Request::Inbound(_) => Op::Query,
        }
    }
}

/// Operation classes, for metrics and capacity.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Apply,
    Declare,
    Verify,
    Query,
    HubQuery,
    Feed,
}

pub const OPS: [Op; 6] = [
    Op::Apply,
    Op::Declare,
    Op::Verify,
    Op::Query,
    Op::HubQuery,
    Op::Feed,
];

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Apply => "apply",
            Op::Declare => "declare",
            Op::Verify => "verify",
            Op::Query => "query",
            Op::HubQuery => "hub_query",
            Op::Feed => "feed",
        }
    }
}

/// Why a request was refused: always a named, explainable reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    /// Name and document are locked after the first verification.
    IdentityLocked,
    /// The code or document is unknown to this platform.
    NotRegistered,
    /// The code's token is not the one its issuer gave that serial: a
    /// guessed, altered or forged code. Said before anything else, so it
    /// tells nothing about whether the serial exists.
    ForgedCode,
    /// Too many family members of this relation (Fujian: 4 parents, 3
    /// children, 1 spouse, 5 relatives, 13 in all).
    FamilyLimit {
        relation: Relation,
        limit: u8,
    },
    /// The request names a province or issuer this platform does not serve.
    WrongPlatform,
    /// An offline code past its validity.
    OfflineExpired,
    /// The rule set requires face verification and the applicant is not a
    /// minor who could get a white code instead.
    FaceNotVerified,
    /// The family member does not fit the relation's conditions (Fujian:
    /// parents aged 55 or more, children under 18).
    FamilyNotEligible {
        relation: Relation,
    },
    /// International version: proxy filing is not allowed here (the subject
    /// is neither elderly nor a child, or the proxy has not verified and
    /// declared first).
    ProxyNotAllowed {
        message: String,
    },
    Other {
        message: String,
    },
    /// A code from another province that could not be verified because the
    /// national hub did not answer in time: the checkpoint refers the holder
    /// to a manual check rather than pass an unverified code.
    HubUnreachable,
}

/// Why a code has its color, with the release guidance the rule set gives
/// (Guangdong shows both to a red holder).
///
/// One pointer wide: it rides in every verdict and health answer (`None`
/// for most), and answers are moved several times on their way back.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Explanation(Arc<ExplanationText>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct ExplanationText {
    pub reason: Arc<str>,
    pub guidance: Arc<str>,
}

impl Explanation {
    pub fn new(reason: Arc<str>, guidance: Arc<str>) -> Explanation {
        Explanation(Arc::new(ExplanationText { reason, guidance }))
    }
}

impl std::ops::Deref for Explanation {
    type Target = ExplanationText;
    fn deref(&self) -> &ExplanationText {
        &self.0
    }
}

impl Serialize for Explanation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Explanation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ExplanationText::deserialize(d).map(|t| Explanation(Arc::new(t)))
    }
}

/// Hubei shows only the most recent negative NAT result.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct NatShown {
    pub at: Minute,
    pub institution: u16,
}

/// Why a person leaving Hubei may resume work at the destination: any one of
/// a negative NAT within 7 days before arrival or a positive serum IgG
/// (carried by a green code, the third option of the rule).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum ResumeBasis {
    NegativeNat { at: Minute, institution: u16 },
    PositiveIgg { at: Minute },
}

/// What a journal entry records, shown by name (`declaration`,
/// `temperature`, `place_scan`, `registration`, the name of a data feed…).
/// A number on the wire between a run's processes, a name everywhere else.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Encode, Decode)]
pub struct JournalKind(u8);

impl JournalKind {
    pub const REGISTRATION: JournalKind = JournalKind(0);
    pub const FACE_VERIFICATION: JournalKind = JournalKind(1);
    pub const DECLARATION: JournalKind = JournalKind(2);
    pub const TEMPERATURE: JournalKind = JournalKind(3);
    pub const PLACE_SCAN: JournalKind = JournalKind(4);
    pub const CHECKPOINT_TEMPERATURE: JournalKind = JournalKind(5);
    pub const DESIGNATION: JournalKind = JournalKind(6);
    pub const QUARANTINE: JournalKind = JournalKind(7);
    pub const NAT_RESULT: JournalKind = JournalKind(8);
    pub const IGG_RESULT: JournalKind = JournalKind(9);
    pub const SAME_BUILDING_CASE: JournalKind = JournalKind(10);
    pub const STAY: JournalKind = JournalKind(11);
    pub const ENTRY: JournalKind = JournalKind(12);
    pub const CREDIT_VIOLATION: JournalKind = JournalKind(13);
    pub const AUTHORITY_COLOR: JournalKind = JournalKind(14);

    const NAMES: [&'static str; 15] = [
        "registration",
        "face_verification",
        "declaration",
        "temperature",
        "place_scan",
        "checkpoint_temperature",
        "designation",
        "quarantine",
        "nat_result",
        "igg_result",
        "same_building_case",
        "stay",
        "entry",
        "credit_violation",
        "authority_color",
    ];

    /// Its name; "unknown" for a number no kind has (read from another
    /// process that is not of this version).
    pub fn as_str(self) -> &'static str {
        JournalKind::NAMES
            .get(self.0 as usize)
            .copied()
            .unwrap_or("unknown")
    }

    /// The kind of this name, if any.
    pub fn parse(name: &str) -> Option<JournalKind> {
        JournalKind::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| JournalKind(i as u8))
    }
}

impl fmt::Debug for JournalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for JournalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for JournalKind {
    fn eq(&self, name: &&str) -> bool {
        self.as_str() == *name
    }
}

impl Serialize for JournalKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One entry of a holder's append-only journal. Carries no personal data.
#[derive(Clone, Debug, PartialEq, Serialize, Encode, Decode)]
pub struct RecordView {
    pub seq: u64,
    pub at: Minute,
    pub kind: JournalKind,
    pub temperature: Option<DeciCelsius>,
    pub symptoms: bool,
    pub contact: bool,
}

/// International version: what the filer declares each day.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Encode, Decode)]
pub struct IntlDeclaration {
    pub temperature: DeciCelsius,
    pub symptoms: bool,
    pub positive_test: bool,
    pub contact: bool,
    /// The last leg's flight number; a change does not break the streak.
    pub flight: u32,
    /// Planned departure (Beijing time), from the ticket or expected.
    pub departure: Minute,
}

/// International version: a trip-risk alert shown under the code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Encode, Decode)]
#[serde(tag = "alert", rename_all = "snake_case")]
pub enum TripAlert {
    /// (1) The streak is broken or started too late: the required days can
    /// no longer be reached before the flight.
    StreakCannotComplete {
        required_from_day: Minute,
        earliest_start: Minute,
    },
    /// (2) A declaration in the 14 days before departure does not meet
    /// boarding requirements.
    UnfitDeclaration {
        seq: u64,
        at: Minute,
        fever: bool,
        symptoms: bool,
        positive_test: bool,
        contact: bool,
    },
}

/// International version: the state of one code.
#[derive(Clone, Debug, PartialEq, Serialize, Encode, Decode)]
pub struct IntlStatus {
    pub holder: MaskedIdentity,
    /// A declaration was filed within the last 24 hours.
    pub valid: bool,
    pub valid_until: Option<Minute>,
    /// When the expiry reminder is sent (2 h before `valid_until`).
    pub reminder_at: Option<Minute>,
    pub streak_start: Option<Minute>,
    /// Calendar days covered by the current streak, today included.
    pub streak_days: u32,
    pub departure: Option<Minute>,
    pub alerts: Vec<TripAlert>,
    /// Codes filed by this account for others (shown on the proxy's device).
    pub proxied: Vec<MaskedIdentity>,
}

/// The answer to a verification.
#[derive(Clone, Debug, PartialEq, Serialize, Encode, Decode)]
pub struct Verdict {
    pub color: Color,
    pub issuer: Issuer,
    pub decision: Decision,
    pub holder: MaskedIdentity,
    /// Present for colors the scheme explains (red, orange...).
    pub explanation: Option<Explanation>,
    pub nat: Option<NatShown>,
    /// The verdict needed the national hub (cross-province scan).
    pub via_hub: bool,
    /// Hubei: the green code carries a result that lets the holder resume
    /// work at the destination (checked with arrival = the scan time).
    pub resume_work: Option<ResumeBasis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Encode, Decode)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    Issued {
        code: CodeId,
        color: Color,
    },
    /// Acknowledged and durably recorded: `seq` is the record's journal number.
    Recorded {
        seq: u64,
        color: Color,
    },
    Verdict(Verdict),
    Health {
        color: Color,
        holder: MaskedIdentity,
        explanation: Option<Explanation>,
        nat: Option<NatShown>,
        /// Qinghai: false declarations and misuse of others' codes on the
        /// holder's credit record; `None` where the scheme keeps none.
        credit_violations: Option<u16>,
        /// Hubei: see `Verdict::resume_work`.
        resume_work: Option<ResumeBasis>,
    },
    OfflineCode {
        code: CodeId,
        issued: Minute,
        color: Color,
        seal: crate::token::Token,
    },
    Refused(Refusal),
    /// The holder's journal in `seq` order: nothing is ever edited or
    /// deleted, and the latest declaration counts.
    Records {
        code: CodeId,
        records: Vec<RecordView>,
    },
    /// International version: a declaration was filed. Boxed (here and
    /// below): the status is the largest answer and rare, and every
    /// response of a tick is moved several times on its way back.
    IntlRecorded {
        seq: u64,
        status: Box<IntlStatus>,
    },
    IntlStatus(Box<IntlStatus>),
    Inbound(InboundAnswer),
    Ack,
    /// "System busy, too many queries, try again later" (admission control).
    Busy,
}

impl Response {
    /// The credential an `OfflineCode` answer saves, to show at a checkpoint.
    pub fn offline_credential(&self) -> Option<Credential> {
        match *self {
            Response::OfflineCode {
                code,
                issued,
                color,
                seal,
            } => Some(Credential::Offline {
                code,
                issued,
                color,
                seal,
            }),
            _ => None,
        }
    }

    /// The holder's color, where the response carries one.
    pub fn color(&self) -> Option<Color> {
        match self {
            Response::Issued { color, .. }
            | Response::Recorded { color, .. }
            | Response::Health { color, .. }
            | Response::OfflineCode { color, .. } => Some(*color),
            Response::Verdict(v) => Some(v.color),
            _ => None,
        }
    }
}
