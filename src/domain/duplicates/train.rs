//! Estimating the model (`model`): m from labelled true pairs, u from random pairs of a registry,
//! word frequencies from the registry. No I/O: the records come from a file or the database
//! (`cli::dedupe`).

use super::compare::{Agreement, Field, Record, agreements};
use super::model::{LevelCounts, Model, TermFrequencies, estimate};

/// A record that owns its values (read from a file or a row).
#[derive(Debug, Clone, Default)]
pub struct OwnedRecord {
    pub commune: String,
    pub commune_name: String,
    pub village: String,
    pub head_name: String,
    pub birth_year: Option<i32>,
    pub gender: Option<String>,
    pub cccd: Option<String>,
    pub old_id: Option<String>,
    pub household_code: Option<String>,
}

impl OwnedRecord {
    pub fn record(&self) -> Record<'_> {
        Record {
            head_name: &self.head_name,
            commune: Some(self.commune.as_str()).filter(|c| !c.is_empty()),
            commune_name: &self.commune_name,
            village: Some(self.village.as_str()).filter(|v| !v.is_empty()),
            birth_year: self.birth_year,
            gender: self.gender.as_deref(),
            cccd: self.cccd.as_deref(),
            old_id: self.old_id.as_deref(),
            household_code: self.household_code.as_deref(),
        }
    }
}

/// A labelled pair.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// "fit" or "holdout" (the generated set), or the hand-written set's name.
    pub half: String,
    pub kind: String,
    pub same: bool,
    pub a: OwnedRecord,
    pub b: OwnedRecord,
}

/// How names are aligned while counting (before any weight exists): the alignment with the most
/// agreeing words, a rotation counting a little against.
fn count_weigh(list: &[Agreement]) -> f64 {
    list.iter()
        .map(|a| match (a.field, a.level) {
            (Field::Order, 1) => -0.5,
            (Field::Order, _) => 0.0,
            (_, 0) => 2.0,
            (_, 1) => 1.5,
            (_, 2) => 1.0,
            (_, 3) => 0.8,
            _ => 0.0,
        })
        .sum()
}

/// The levels of the true pairs of the fit half.
pub fn count_m<'a>(pairs: impl IntoIterator<Item = &'a Labelled>) -> LevelCounts {
    let mut c = LevelCounts::default();
    for p in pairs {
        if p.same {
            c.add(&agreements(&p.a.record(), &p.b.record(), &count_weigh));
        }
    }
    c
}

/// A small deterministic generator (splitmix64): the same registry gives the same u.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The levels of `samples` random pairs of the registry.
pub fn count_u(registry: &[OwnedRecord], samples: usize) -> LevelCounts {
    let mut c = LevelCounts::default();
    if registry.len() < 2 {
        return c;
    }
    let mut rng = Mix(25);
    for _ in 0..samples {
        let i = rng.below(registry.len());
        let mut j = rng.below(registry.len() - 1);
        if j >= i {
            j += 1;
        }
        c.add(&agreements(
            &registry[i].record(),
            &registry[j].record(),
            &count_weigh,
        ));
    }
    c
}

/// Word frequencies of a registry.
pub fn frequencies(registry: &[OwnedRecord]) -> TermFrequencies {
    let mut tf = TermFrequencies::default();
    for r in registry {
        tf.add(&r.commune, &r.head_name);
    }
    tf
}

/// Random pairs drawn for u.
pub const U_SAMPLES: usize = 200_000;

/// The model from labelled pairs (their fit half) and a registry.
pub fn train(
    pairs: &[Labelled],
    registry: &[OwnedRecord],
    trained_at: &str,
    source: &str,
) -> Model {
    let m = count_m(pairs.iter().filter(|p| p.half == "fit"));
    let u = count_u(registry, U_SAMPLES);
    estimate(&m, &u, trained_at, source)
}
