//! The national code (防疫健康信息码): issued by the hub to whoever applies
//! for it, valid on an equal footing with the provincial codes. It carries
//! no data of its own: it shows what the provincial data says about the
//! holder, in the national scheme's colors.

use crate::color::Color;
use crate::doc_index::DocIndex;
use crate::identity::Identity;

pub(super) struct NationalCodes {
    /// The national scheme's colors, lenient → strict.
    colors: Vec<Color>,
    /// Masked when answered, like the provincial statuses the hub keeps.
    holders: Vec<Identity>,
    by_document: DocIndex,
}

impl NationalCodes {
    pub fn new(colors: Vec<Color>) -> NationalCodes {
        NationalCodes {
            colors,
            holders: Vec::new(),
            by_document: DocIndex::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.holders.len()
    }

    /// Applying again with the same document gives the same serial back.
    pub fn apply(&mut self, identity: &Identity) -> u32 {
        let next = self.holders.len() as u32;
        self.holders.push(*identity);
        let holders = &self.holders;
        let serial = self
            .by_document
            .insert(identity.number, next, |s| holders[s as usize].number);
        if serial != next {
            self.holders.pop();
        }
        serial
    }

    pub fn get(&self, serial: u32) -> Option<Identity> {
        self.holders.get(serial as usize).copied()
    }

    pub fn heap_bytes(&self) -> usize {
        self.holders.capacity() * std::mem::size_of::<Identity>() + self.by_document.heap_bytes()
    }

    /// The national color for a provincial one: the same color if the
    /// scheme has it, else the most lenient of the scheme's colors that is
    /// at least as strict (Fujian orange → red), else the strictest.
    pub fn in_scheme(&self, c: Color) -> Color {
        if self.colors.contains(&c) {
            return c;
        }
        self.colors
            .iter()
            .copied()
            .filter(|x| x.severity() >= c.severity())
            .min_by_key(|x| x.severity())
            .or_else(|| self.colors.iter().copied().max_by_key(|x| x.severity()))
            .unwrap_or(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{DocKind, DocNumber, NameCode};

    #[test]
    fn colors_outside_the_scheme_become_stricter_never_more_lenient() {
        let n = NationalCodes::new(vec![Color::Green, Color::Yellow, Color::Red]);
        assert_eq!(n.in_scheme(Color::Orange), Color::Red);
        assert_eq!(n.in_scheme(Color::Yellow), Color::Yellow);
        assert_eq!(n.in_scheme(Color::White), Color::Green);
    }

    #[test]
    fn one_code_per_document() {
        let mut n = NationalCodes::new(vec![Color::Green, Color::Red]);
        let id = |k: u64| Identity {
            doc: DocKind::IdCard,
            number: DocNumber(11010519800101000 + k),
            name: NameCode::new(1, 2, None),
            age: 30,
        };
        let a = n.apply(&id(1));
        let b = n.apply(&id(2));
        assert_ne!(a, b);
        assert_eq!(n.apply(&id(1)), a);
        assert_eq!(n.len(), 2);
    }
}
