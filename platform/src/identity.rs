//! Real-name identities and their masked display.
//!
//! Identities are stored compactly (a name code and a 17-digit number) and
//! rendered on demand, so the hot scan path never allocates. Responses carry
//! only `MaskedIdentity`, which by construction cannot hold a full name or ID
//! number.

use crate::region::ProvinceId;
use bitcode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    IdCard,
    Passport,
}

/// A document number. For ID cards, the first 17 digits of the 18-digit
/// resident ID (the check digit is derived); for passports, the numeric part.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Encode, Decode,
)]
#[serde(transparent)]
pub struct DocNumber(pub u64);

/// A document number as two 4-byte words, for records kept by the million:
/// a `u64` field would give the whole record 8-byte alignment and padding.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NumberWords {
    lo: u32,
    hi: u32,
}

impl NumberWords {
    pub const ZERO: NumberWords = NumberWords { lo: 0, hi: 0 };

    pub fn get(self) -> DocNumber {
        DocNumber(((self.hi as u64) << 32) | self.lo as u64)
    }
}

impl From<DocNumber> for NumberWords {
    fn from(n: DocNumber) -> NumberWords {
        NumberWords {
            lo: n.0 as u32,
            hi: (n.0 >> 32) as u32,
        }
    }
}

/// Index into the name tables: surname, then up to two given-name characters.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
#[serde(transparent)]
pub struct NameCode(pub u32);

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Encode, Decode)]
pub struct Identity {
    pub doc: DocKind,
    pub number: DocNumber,
    pub name: NameCode,
    pub age: u8,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "辉", "力", "宇", "浩", "琳",
    "欣", "怡", "晨", "阳",
];

impl NameCode {
    /// Builds a name code; `given2 == None` makes a two-character name.
    pub fn new(surname: u32, given1: u32, given2: Option<u32>) -> NameCode {
        let s = surname % SURNAMES.len() as u32;
        let g1 = given1 % GIVEN.len() as u32;
        let g2 = given2.map_or(0, |g| g % GIVEN.len() as u32 + 1);
        NameCode((s << 16) | (g1 << 8) | g2)
    }
    fn parts(self) -> (&'static str, &'static str, Option<&'static str>) {
        let s = ((self.0 >> 16) as usize) % SURNAMES.len();
        let g1 = ((self.0 >> 8) & 0xff) as usize % GIVEN.len();
        let g2 = (self.0 & 0xff) as usize;
        (
            SURNAMES[s],
            GIVEN[g1],
            (g2 > 0).then(|| GIVEN[(g2 - 1) % GIVEN.len()]),
        )
    }
    /// The full name. Only the holder's own device and the platform see it.
    pub fn full(self) -> String {
        let (s, g1, g2) = self.parts();
        format!("{s}{g1}{}", g2.unwrap_or(""))
    }
}

impl DocNumber {
    /// Composes a resident ID's first 17 digits: region (6), birth date (8),
    /// sequence (3).
    pub fn resident(province: ProvinceId, county: u16, birth_yyyymmdd: u32, seq: u16) -> DocNumber {
        let region = province.info().admin_code as u64 * 10_000 + 100 + (county as u64 % 100);
        DocNumber(region * 100_000_000_000 + birth_yyyymmdd as u64 * 1000 + (seq as u64 % 1000))
    }

    /// The 18-character resident ID with its ISO 7064 MOD 11-2 check digit.
    pub fn resident_string(self) -> String {
        let digits = format!("{:017}", self.0 % 100_000_000_000_000_000);
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = digits
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| (b - b'0') as u32 * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize] as char;
        format!("{digits}{check}")
    }

    pub fn passport_string(self) -> String {
        format!("E{:08}", self.0 % 100_000_000)
    }
}

/// Writes `value`'s last `out.len()` decimal digits, zero-padded.
fn write_digits(out: &mut [u8], mut value: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl Identity {
    pub fn document_string(&self) -> String {
        let mut buf = [0u8; 18];
        let n = self.write_document(&mut buf);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// The full document as `document_string` shows it, written into `out`
    /// without allocating (masking runs on every publication and verdict).
    fn write_document(&self, out: &mut [u8; 18]) -> usize {
        match self.doc {
            DocKind::IdCard => {
                write_digits(&mut out[..17], self.number.0 % 100_000_000_000_000_000);
                const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
                let sum: u32 = out[..17]
                    .iter()
                    .zip(WEIGHTS)
                    .map(|(b, w)| (b - b'0') as u32 * w)
                    .sum();
                out[17] = b"10X98765432"[(sum % 11) as usize];
                18
            }
            DocKind::Passport => {
                out[0] = b'E';
                write_digits(&mut out[1..9], self.number.0 % 100_000_000);
                9
            }
        }
    }

    pub fn masked(&self) -> MaskedIdentity {
        let (s, _, g2) = self.name.parts();
        let mut full = [0u8; 18];
        let n = self.write_document(&mut full);
        let mut m = MaskedIdentity {
            name: [0; 16],
            name_len: 0,
            doc: [b'*'; 18],
            doc_len: n as u8,
        };
        // 张*三 for three-character names, 张* for two: surname and the last
        // character stay, the middle is hidden (DOMAIN.md, Guangdong privacy).
        let mut len = 0;
        for part in [s, "*", g2.unwrap_or("")] {
            m.name[len..len + part.len()].copy_from_slice(part.as_bytes());
            len += part.len();
        }
        m.name_len = len as u8;
        let (head, tail) = self.doc.mask_keeps();
        m.doc[..head].copy_from_slice(&full[..head]);
        m.doc[n - tail..n].copy_from_slice(&full[n - tail..n]);
        m
    }

    /// `masked` showing one more character of the document than the mask
    /// allows (`Mutant::MaskOneShort`, tests of the oracle only).
    #[cfg(feature = "mutant")]
    pub(crate) fn masked_one_short(&self) -> MaskedIdentity {
        let mut m = self.masked();
        let mut full = [0u8; 18];
        self.write_document(&mut full);
        let (head, _) = self.doc.mask_keeps();
        m.doc[head] = full[head];
        m
    }
}

/// The masking standard every document kind meets: the ID card's, 7 of 18
/// characters shown (region prefix and the last four, `110***********1234`,
/// DOMAIN.md, Guangdong). A shorter document shows proportionally fewer,
/// so no kind gives away more of its number than the ID card does.
const SHOWN_PER_18_MAX: usize = 7;

impl DocKind {
    /// Characters of the full document left visible at the head and tail.
    /// A passport (`E12345678`) keeps its letter and the last two digits,
    /// `E******78`: 3 of 9, under the ID card's 7 of 18.
    const fn mask_keeps(self) -> (usize, usize) {
        match self {
            DocKind::IdCard => (3, 4),
            DocKind::Passport => (1, 2),
        }
    }
}

/// A holder as shown to checkpoint staff: 张*三, 110***********1234.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Encode, Decode)]
pub struct MaskedIdentity {
    name: [u8; 16],
    name_len: u8,
    doc: [u8; 18],
    doc_len: u8,
}

impl MaskedIdentity {
    pub fn name(&self) -> &str {
        shown(&self.name, self.name_len)
    }
    pub fn document(&self) -> &str {
        shown(&self.doc, self.doc_len)
    }
}

/// The first `len` bytes of `bytes` as text; "?" where a length or the
/// bytes read back from another process are not a masked identity's.
fn shown(bytes: &[u8], len: u8) -> &str {
    bytes
        .get(..len as usize)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("?")
}

impl fmt::Debug for MaskedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name(), self.document())
    }
}

impl Serialize for MaskedIdentity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("MaskedIdentity", 2)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("document", self.document())?;
        st.end()
    }
}

/// True when `shown` reveals no more than a masked form would: used by the
/// privacy invariant on every response that leaves the platform.
pub fn is_masked_document(shown: &str) -> bool {
    let b = shown.as_bytes();
    let shown_count = b.iter().filter(|&&c| c != b'*').count();
    // One hidden run between a visible head and tail, and no more visible
    // than the ID card's share.
    let hidden_runs = b
        .windows(2)
        .filter(|w| w[0] != b'*' && w[1] == b'*')
        .count()
        + usize::from(b.first() == Some(&b'*'));
    b.len() >= 8 && hidden_runs == 1 && shown_count * 18 <= SHOWN_PER_18_MAX * b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_name_and_id_like_the_platforms_do() {
        let id = Identity {
            doc: DocKind::IdCard,
            number: DocNumber::resident(ProvinceId::parse("beijing").unwrap(), 1, 19800101, 123),
            name: NameCode::new(2, 0, Some(1)),
            age: 40,
        };
        let full = id.document_string();
        assert_eq!(full.len(), 18);
        let m = id.masked();
        assert_eq!(m.name(), "张*芳");
        assert_eq!(&m.document()[..3], "110");
        assert_eq!(&m.document()[3..14], "***********");
        assert_eq!(&m.document()[14..], &full[14..]);
        assert!(is_masked_document(m.document()));
        assert!(!is_masked_document(&full));
    }

    #[test]
    fn masking_matches_the_formatted_document_and_name() {
        for k in 0..2000u64 {
            let number = DocNumber(k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 3);
            for doc in [DocKind::IdCard, DocKind::Passport] {
                let name = NameCode::new(
                    k as u32,
                    (k / 3) as u32,
                    (k % 4 != 0).then_some(k as u32 / 7),
                );
                let id = Identity {
                    doc,
                    number,
                    name,
                    age: 30,
                };
                let full = match doc {
                    DocKind::IdCard => number.resident_string(),
                    DocKind::Passport => number.passport_string(),
                };
                assert_eq!(id.document_string(), full);
                let n = full.len();
                let (head, tail) = doc.mask_keeps();
                let want = format!(
                    "{}{}{}",
                    &full[..head],
                    "*".repeat(n - head - tail),
                    &full[n - tail..]
                );
                let m = id.masked();
                assert_eq!(m.document(), want);
                let (s, _, g2) = name.parts();
                assert_eq!(m.name(), format!("{s}*{}", g2.unwrap_or("")));
            }
        }
    }

    #[test]
    fn a_passport_is_masked_to_the_id_card_standard() {
        let id = Identity {
            doc: DocKind::Passport,
            number: DocNumber(12_345_678),
            name: NameCode::new(2, 0, None),
            age: 40,
        };
        assert_eq!(id.document_string(), "E12345678");
        let m = id.masked();
        assert_eq!(m.document(), "E******78");
        assert_eq!(m.name(), "张*");
        assert!(is_masked_document(m.document()));
        // The old form showed 6 of 8 digits: more than an ID card shows.
        assert!(!is_masked_document("E12**5678"));
        assert!(!is_masked_document("E12345678"));
    }

    #[test]
    fn an_id_card_shows_no_more_than_its_standard() {
        assert!(is_masked_document("110***********1234"));
        assert!(!is_masked_document("1101**********1234"));
        assert!(!is_masked_document("110*****1*****1234"));
        assert!(!is_masked_document("110105194912310021"));
    }

    #[test]
    fn names_come_from_the_tables_by_index() {
        // Read by hand from SURNAMES and GIVEN.
        assert_eq!(NameCode::new(2, 0, Some(1)).full(), "张伟芳");
        assert_eq!(NameCode::new(0, 1, None).full(), "王芳");
        assert_eq!(NameCode::new(32, 35, Some(35)).full(), "欧阳阳阳");
        assert_eq!(NameCode::new(33, 4, Some(0)).full(), "司马静伟");
        // Indices wrap around the tables (34 surnames, 36 given characters).
        assert_eq!(NameCode::new(35, 38, Some(39)).full(), "李娜敏");
        let masked = |name| {
            Identity {
                doc: DocKind::Passport,
                number: DocNumber(1),
                name,
                age: 30,
            }
            .masked()
        };
        assert_eq!(masked(NameCode::new(33, 4, Some(0))).name(), "司马*伟");
        assert_eq!(masked(NameCode::new(35, 38, Some(39))).name(), "李*敏");
        assert_eq!(masked(NameCode::new(32, 35, None)).name(), "欧阳*");
    }

    #[test]
    fn resident_numbers_are_region_birth_date_and_sequence() {
        let beijing = ProvinceId::parse("beijing").unwrap();
        let guangdong = ProvinceId::parse("guangdong").unwrap();
        // Only the county's last two digits and the sequence's last three
        // count: 110105 born 1949-12-31, sequence 002 (the published example).
        let n = DocNumber::resident(beijing, 105, 19491231, 1002);
        assert_eq!(n, DocNumber(11010519491231002));
        assert_eq!(n.resident_string(), "11010519491231002X");
        // Check digits computed by hand with the ISO 7064 weights.
        let n = DocNumber::resident(guangdong, 1, 19900307, 456);
        assert_eq!(n.resident_string(), "440101199003074561");
        let n = DocNumber::resident(guangdong, 299, 19900307, 7999);
        assert_eq!(n.resident_string(), "440199199003079990");
        assert_eq!(DocNumber(7).passport_string(), "E00000007");
        assert_eq!(DocNumber(1_234_567_890).passport_string(), "E34567890");
    }

    #[test]
    fn the_largest_number_shows_its_last_digits_without_overflow() {
        let id = |doc| Identity {
            doc,
            number: DocNumber(u64::MAX),
            name: NameCode::new(0, 0, None),
            age: 1,
        };
        // u64::MAX = 18446744073709551615.
        assert_eq!(DocNumber(u64::MAX).resident_string(), "467440737095516158");
        assert_eq!(id(DocKind::IdCard).document_string(), "467440737095516158");
        assert_eq!(id(DocKind::Passport).document_string(), "E09551615");
        assert_eq!(
            id(DocKind::IdCard).masked().document(),
            "467***********6158"
        );
        assert_eq!(id(DocKind::Passport).masked().document(), "E******15");
    }

    #[test]
    fn a_number_splits_into_two_words_and_back() {
        let n = DocNumber(0x0027_1234_89AB_CDEF);
        let w = NumberWords::from(n);
        assert_eq!((w.hi, w.lo), (0x0027_1234, 0x89AB_CDEF));
        assert_eq!(w.get(), n);
        assert_eq!(NumberWords::from(DocNumber(u64::MAX)).get().0, u64::MAX);
        assert_eq!(NumberWords::ZERO.get(), DocNumber(0));
    }

    #[test]
    fn a_masked_holder_prints_and_serializes_only_the_masked_form() {
        let m = Identity {
            doc: DocKind::IdCard,
            number: DocNumber(11010519491231002),
            name: NameCode::new(2, 0, Some(1)),
            age: 70,
        }
        .masked();
        assert_eq!(format!("{m:?}"), "张*芳 110***********002X");
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"name":"张*芳","document":"110***********002X"}"#
        );
    }

    #[test]
    fn a_hidden_head_is_the_one_hidden_run() {
        assert!(is_masked_document("***********1234567"));
        assert!(!is_masked_document("*1************1234"));
        assert!(!is_masked_document("********12345678"));
        // Too short to hide anything worth hiding.
        assert!(!is_masked_document("1*****4"));
    }

    #[test]
    fn check_digit_is_iso_7064() {
        // 11010519491231002X is the standard published example.
        assert_eq!(
            DocNumber(11010519491231002).resident_string(),
            "11010519491231002X"
        );
    }
}
