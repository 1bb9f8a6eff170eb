//! The token that makes a health code's public form unguessable.
//!
//! Serials are handed out in order, so a code of issuer and serial alone
//! could be enumerated by counting upwards, reading every holder's masked
//! name and color. Each code therefore carries a token: the 64-bit
//! SipHash-2-4 of its issuer and serial under the issuing platform's
//! 128-bit key. SipHash is a keyed pseudorandom function made for short
//! messages; a token is checked at every scan, and a keyed BLAKE3 hash of
//! the same six bytes cost a tenth of a simulated day's work.
//! Nobody without the key can make a valid code, and the token is not
//! stored anywhere: the platform recomputes it from the serial, so a
//! person's record stays the size it was.
//!
//! Each platform (a province, the national hub) has its own key. The hub
//! holds every platform's key because it is the trust point of mutual
//! recognition: it answers for codes of all issuers.
//!
//! A code saved for offline display also carries a seal: the same keyed
//! hash over the code, the minute it was saved and the color it shows.
//! The saved minute decides how long the code is valid, so without the
//! seal anyone could keep an expired offline code alive by editing it.

use crate::api::{CodeId, Credential, Issuer, Request};
use crate::color::Color;
use crate::region::{ProvinceId, PROVINCE_COUNT};
use crate::time::Minute;
use bitcode::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// 64 bits of MAC. On the wire it is 16 lowercase hex digits (a JSON
/// number past 2^53 is not read back exactly by every client).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct Token(pub u64);

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&format!("{:016x}", self.0))
        } else {
            s.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Token, D::Error> {
        if !d.is_human_readable() {
            return u64::deserialize(d).map(Token);
        }
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Token::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("a code's token is 16 lowercase hex digits"))
    }
}

impl Token {
    /// Exactly 16 lowercase hex digits, the one spelling the platform
    /// writes, so that a code has one public form.
    pub fn parse(s: &str) -> Option<Token> {
        let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if s.len() != 16 || !s.bytes().all(lower_hex) {
            return None;
        }
        u64::from_str_radix(s, 16).ok().map(Token)
    }
}

/// One platform's secret. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeKey([u8; 16]);

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

impl CodeKey {
    pub fn token(&self, issuer: Issuer, serial: u32) -> Token {
        let (kind, index) = issuer_bytes(issuer);
        let s = serial.to_le_bytes();
        self.mac(&[kind, index, s[0], s[1], s[2], s[3]])
    }

    /// The seal of `code` saved for offline display at `issued` showing
    /// `color`. Its message is twice as long as a token's and starts with
    /// a byte no issuer uses, so no token is ever a valid seal.
    pub fn seal(&self, code: &CodeId, issued: Minute, color: Color) -> Token {
        let (kind, index) = issuer_bytes(code.issuer);
        let s = code.serial.to_le_bytes();
        let t = issued.0.to_le_bytes();
        self.mac(&[
            OFFLINE_SEAL,
            kind,
            index,
            s[0],
            s[1],
            s[2],
            s[3],
            t[0],
            t[1],
            t[2],
            t[3],
            color_byte(color),
        ])
    }

    /// Whether `credential`'s seal is this key's: true for every credential
    /// but an offline code, which carries one. Like `signs`, one comparison.
    pub fn seals(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Offline {
                code,
                issued,
                color,
                seal,
            } => self.seal(code, *issued, *color).0 ^ seal.0 == 0,
            Credential::Code(_) | Credential::IdCard(_) => true,
        }
    }

    /// The keyed hash of `message`.
    fn mac(&self, message: &[u8]) -> Token {
        use std::hash::Hasher;
        let mut h = siphasher::sip::SipHasher24::new_with_key(&self.0);
        h.write(message);
        Token(h.finish())
    }

    /// The code as this key signs it.
    pub fn sign(&self, issuer: Issuer, serial: u32) -> CodeId {
        CodeId {
            issuer,
            serial,
            token: self.token(issuer, serial),
        }
    }

    /// Whether `code`'s token is the one this key gives its issuer and
    /// serial. One 64-bit comparison: no early exit that a timing probe
    /// could use to learn the token byte by byte.
    pub fn signs(&self, code: &CodeId) -> bool {
        self.token(code.issuer, code.serial).0 ^ code.token.0 == 0
    }
}

/// The first byte of an offline seal's message (a token's is 1 or 2).
const OFFLINE_SEAL: u8 = 3;

fn issuer_bytes(issuer: Issuer) -> (u8, u8) {
    match issuer {
        Issuer::Province(p) => (1, p.index() as u8),
        Issuer::National => (2, 0),
    }
}

/// A fixed byte per color: reordering `Color` must not change seals.
fn color_byte(c: Color) -> u8 {
    match c {
        Color::Green => 1,
        Color::White => 2,
        Color::Yellow => 3,
        Color::Orange => 4,
        Color::Red => 5,
    }
}

/// The keys of all 32 platforms, derived from one secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeKeys {
    provinces: Box<[CodeKey; PROVINCE_COUNT]>,
    national: CodeKey,
}

/// Domain separation for `blake3::derive_key`: a new context means new keys.
const CONTEXT: &str = "hcsim 2020-10-01 health code token key v1";

impl CodeKeys {
    /// Each platform's key from `secret` (a server's random secret).
    pub fn from_secret(secret: &[u8; 32]) -> CodeKeys {
        let key = |kind: u8, index: u8| {
            let mut material = [0u8; 34];
            material[..32].copy_from_slice(secret);
            material[32] = kind;
            material[33] = index;
            let derived = blake3::derive_key(CONTEXT, &material);
            let mut key = [0u8; 16];
            key.copy_from_slice(&derived[..16]);
            CodeKey(key)
        };
        CodeKeys {
            provinces: Box::new(std::array::from_fn(|i| key(1, i as u8))),
            national: key(2, 0),
        }
    }

    /// The keys of a simulated run: the same seed gives the same keys, so a
    /// run's answers (and its summary) do not depend on where it runs.
    pub fn from_seed(seed: u64) -> CodeKeys {
        let secret = blake3::derive_key("hcsim simulated platform secret v1", &seed.to_le_bytes());
        CodeKeys::from_secret(&secret)
    }

    pub fn province(&self, p: ProvinceId) -> &CodeKey {
        &self.provinces[p.index()]
    }

    pub fn national(&self) -> &CodeKey {
        &self.national
    }

    /// The issuer's key; `None` for a province number past the last one
    /// (only a code built in-process can hold one).
    pub fn of(&self, issuer: Issuer) -> Option<&CodeKey> {
        match issuer {
            Issuer::Province(p) => self.provinces.get(p.index()),
            Issuer::National => Some(&self.national),
        }
    }

    /// The code as its issuer signs it.
    pub fn sign(&self, issuer: Issuer, serial: u32) -> CodeId {
        match self.of(issuer) {
            Some(k) => k.sign(issuer, serial),
            // No platform answers for such an issuer; a zero token is as
            // good as any other there.
            None => CodeId {
                issuer,
                serial,
                token: Token(0),
            },
        }
    }

    /// Whether `code` carries the token its issuer's key gives it.
    pub fn signs(&self, code: &CodeId) -> bool {
        self.of(code.issuer).is_some_and(|k| k.signs(code))
    }

    /// The offline seal `code`'s issuer gives it (zero for an issuer no
    /// platform answers for, as in `sign`).
    pub fn seal(&self, code: &CodeId, issued: Minute, color: Color) -> Token {
        self.of(code.issuer)
            .map_or(Token(0), |k| k.seal(code, issued, color))
    }

    /// Whether `credential` is what its issuer made: the code's token and,
    /// for an offline code, its seal.
    pub fn vouches(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Code(code) | Credential::Offline { code, .. } => self
                .of(code.issuer)
                .is_some_and(|k| k.signs(code) && k.seals(credential)),
            Credential::IdCard(_) => true,
        }
    }

    /// Whether everything `req` presents verifies: its code's token, and
    /// the seal of an offline code shown at a checkpoint.
    pub fn admits(&self, req: &Request) -> bool {
        match req {
            Request::Verify { credential, .. } => self.vouches(credential),
            _ => req.code().is_none_or(|c| self.signs(&c)),
        }
    }
}

/// A platform built without keys signs with seed 0's: tests and tools.
/// `hcsim run` derives keys from the scenario's seed; `hcsim serve` from
/// `--code-key-seed` or a random secret.
impl Default for CodeKeys {
    fn default() -> CodeKeys {
        CodeKeys::from_seed(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(key: &str) -> ProvinceId {
        ProvinceId::parse(key).unwrap()
    }

    #[test]
    fn a_code_verifies_only_with_its_own_token_issuer_and_serial() {
        let keys = CodeKeys::from_seed(7);
        let code = keys.sign(Issuer::Province(p("hubei")), 41);
        assert!(keys.signs(&code));
        let altered = [
            CodeId { serial: 42, ..code },
            CodeId {
                issuer: Issuer::Province(p("anhui")),
                ..code
            },
            CodeId {
                issuer: Issuer::National,
                ..code
            },
            CodeId {
                token: Token(code.token.0 ^ 1),
                ..code
            },
        ];
        for a in altered {
            assert!(!keys.signs(&a), "{a:?} verified");
        }
        // Another platform's secret gives other tokens.
        assert!(!CodeKeys::from_seed(8).signs(&code));
        assert_ne!(keys.province(p("hubei")), keys.province(p("anhui")));
    }

    #[test]
    fn an_offline_code_verifies_only_as_it_was_saved() {
        let keys = CodeKeys::from_seed(7);
        let code = keys.sign(Issuer::Province(p("guangdong")), 9);
        let (issued, color) = (Minute(1_000), Color::Green);
        let saved = Credential::Offline {
            code,
            issued,
            color,
            seal: keys.seal(&code, issued, color),
        };
        assert!(keys.vouches(&saved));
        let Credential::Offline { seal, .. } = saved else {
            unreachable!()
        };
        let altered = [
            // Kept alive past its validity, or shown in a kinder color.
            Credential::Offline {
                code,
                issued: Minute(1_000 + 24 * 60),
                color,
                seal,
            },
            Credential::Offline {
                code,
                issued,
                color: Color::White,
                seal,
            },
            // Another holder's code under this seal.
            Credential::Offline {
                code: keys.sign(code.issuer, 10),
                issued,
                color,
                seal,
            },
            Credential::Offline {
                code,
                issued,
                color,
                seal: Token(seal.0 ^ (1 << 63)),
            },
            // The code's own token is not a seal.
            Credential::Offline {
                code,
                issued,
                color,
                seal: code.token,
            },
        ];
        for a in altered {
            assert!(!keys.vouches(&a), "{a:?} verified");
        }
        assert!(!CodeKeys::from_seed(8).vouches(&saved));
        // A forged code under a seal computed for it is still forged.
        let forged = CodeId {
            token: Token(code.token.0 ^ 1),
            ..code
        };
        let resealed = Credential::Offline {
            code: forged,
            issued,
            color,
            seal: keys.seal(&forged, issued, color),
        };
        assert!(!keys.vouches(&resealed));
        // Only an offline code carries a seal.
        assert!(keys.vouches(&Credential::Code(code)));
        assert!(keys.province(p("guangdong")).seals(&Credential::Code(code)));
    }

    #[test]
    fn tokens_of_consecutive_serials_share_no_pattern() {
        let keys = CodeKeys::from_seed(1);
        let tokens: Vec<u64> = (0..64)
            .map(|s| keys.sign(Issuer::National, s).token.0)
            .collect();
        // Each pair of neighbours differs in about half of the 64 bits.
        for w in tokens.windows(2) {
            let differing = (w[0] ^ w[1]).count_ones();
            assert!((12..=52).contains(&differing), "{differing} bits");
        }
    }

    #[test]
    fn the_json_form_is_sixteen_lowercase_hex_digits() {
        let t = Token(0x00ab_cdef_0123_4567);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#""00abcdef01234567""#);
        assert_eq!(serde_json::from_str::<Token>(&json).unwrap(), t);
        for bad in [
            r#""ABCDEF0123456789""#,
            r#""abc""#,
            "12",
            r#""0x00abcdef012345""#,
        ] {
            assert!(serde_json::from_str::<Token>(bad).is_err(), "{bad}");
        }
        let binary = postcard::to_stdvec(&t).unwrap();
        assert_eq!(postcard::from_bytes::<Token>(&binary).unwrap(), t);
    }
}
