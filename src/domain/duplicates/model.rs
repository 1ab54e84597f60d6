//! The Fellegi–Sunter model: for each field and agreement level, m (how often the level is seen
//! when the two records are one household) and u (how often for two random households); the
//! level adds log2(m/u) bits of evidence. Exact agreement on a name word is weighed by how common
//! that word is in the commune (term-frequency adjustment): log2(m / frequency).
//!
//! m comes from labelled true pairs (the fit half of the generated set, whose corruption model is
//! documented in `tests/data/dedupe/make_pairs.py`); u and the frequencies from the registry
//! (`giupdo dedupe train`). The model is data: stored in `dedupe_models`, the newest that reads
//! is used, the one built in (`default_model.json`) when none does.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::compare::{Agreement, Field, Record, agreements};

/// Bumped when the fields or their levels change: a stored model of another version is stale.
pub const MODEL_VERSION: u32 = 2;

/// No level's m or u is taken below this: a level never seen among a few thousand pairs is rare,
/// not impossible (a CCCD typed with one digit wrong, a gender ticked wrongly).
pub const MIN_PROBABILITY: f64 = 0.002;

/// Below this many households in a commune, a word's frequency is taken from the district.
pub const MIN_TF_HOUSEHOLDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    pub field: Field,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: u32,
    /// When m and u were estimated (text, as stored).
    pub trained_at: String,
    /// What they were estimated from.
    pub source: String,
    pub fields: Vec<FieldParams>,
}

/// Why a stored model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("mô hình không đọc được: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error(
        "mô hình phiên bản {0}, phần mềm cần phiên bản {MODEL_VERSION}: cần chạy lại `giupdo dedupe train`"
    )]
    Stale(u32),
    #[error("mô hình thiếu trường {0} hoặc số mức của trường sai")]
    Incomplete(&'static str),
    #[error("mô hình có xác suất không hợp lệ ở trường {0}")]
    Invalid(&'static str),
}

impl Model {
    /// The model built into the program (trained on the generated set's fit half and its
    /// population; a unit test proves it is what `dedupe train` gives from those files).
    pub fn builtin() -> Model {
        static BUILTIN: std::sync::LazyLock<Model> = std::sync::LazyLock::new(|| {
            Model::from_json(include_str!("default_model.json"))
                .expect("the built-in model reads (tested)")
        });
        BUILTIN.clone()
    }

    /// A stored model, checked: the right version, every field with its levels, probabilities
    /// in (0, 1].
    pub fn from_json(text: &str) -> Result<Model, ModelError> {
        let m: Model = serde_json::from_str(text)?;
        if m.version != MODEL_VERSION {
            return Err(ModelError::Stale(m.version));
        }
        for f in Field::ALL {
            let p = m
                .fields
                .iter()
                .find(|p| p.field == f)
                .ok_or(ModelError::Incomplete(f.code()))?;
            let n = f.levels().len();
            if p.m.len() != n || p.u.len() != n {
                return Err(ModelError::Incomplete(f.code()));
            }
            if p.m
                .iter()
                .chain(&p.u)
                .any(|x| !x.is_finite() || *x <= 0.0 || *x > 1.0)
            {
                return Err(ModelError::Invalid(f.code()));
            }
        }
        Ok(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model serialises")
    }

    fn params(&self, f: Field) -> &FieldParams {
        self.fields
            .iter()
            .find(|p| p.field == f)
            .expect("checked by from_json")
    }

    /// The weight of one level without frequency adjustment, in bits.
    pub fn level_weight(&self, field: Field, level: u8) -> f64 {
        if field.is_null(level) {
            return 0.0;
        }
        let p = self.params(field);
        (p.m[level as usize] / p.u[level as usize]).log2()
    }

    /// The weight of one agreement: exact agreement on a name word by that word's frequency, and
    /// a word equal but for its marks never weighing more than the same word written exactly
    /// (among random households, two spellings of one name are rarer than one spelling, which
    /// would make a missing mark stronger evidence than none: true, and no help to a reader).
    pub fn weight(&self, a: &Agreement, tf: &dyn Fn(Field, &str) -> Option<f64>) -> f64 {
        let exact = |word: &str| {
            let m = self.params(a.field).m[0];
            match tf(a.field, word) {
                Some(freq) => (m / freq.max(MIN_PROBABILITY / 10.0)).log2(),
                None => self.level_weight(a.field, 0),
            }
        };
        match (&a.tf_word, a.level) {
            (Some(word), 0) => exact(word),
            (Some(word), 1 | 2) => self.level_weight(a.field, a.level).min(exact(word)),
            _ => self.level_weight(a.field, a.level),
        }
    }

    /// The pair's agreements and their weights, the name aligned the way that weighs most.
    pub fn score(
        &self,
        a: &Record<'_>,
        b: &Record<'_>,
        tf: &dyn Fn(Field, &str) -> Option<f64>,
    ) -> Vec<(Agreement, f64)> {
        let weigh = |list: &[Agreement]| list.iter().map(|x| self.weight(x, tf)).sum::<f64>();
        agreements(a, b, &weigh)
            .into_iter()
            .map(|x| {
                let w = self.weight(&x, tf);
                (x, w)
            })
            .collect()
    }
}

/// Counts of levels per field, to estimate m or u from.
#[derive(Debug, Clone, Default)]
pub struct LevelCounts {
    counts: HashMap<Field, Vec<u64>>,
    pairs: u64,
}

impl LevelCounts {
    pub fn add(&mut self, list: &[Agreement]) {
        self.pairs += 1;
        for a in list {
            let v = self
                .counts
                .entry(a.field)
                .or_insert_with(|| vec![0; a.field.levels().len()]);
            v[a.level as usize] += 1;
        }
    }

    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// How many pairs were seen at this level.
    pub fn count(&self, f: Field, level: usize) -> u64 {
        self.counts.get(&f).map(|c| c[level]).unwrap_or(0)
    }

    /// The proportion of each level among the pairs that could be compared on that field (the
    /// null level's own share is kept as observed), never below [`MIN_PROBABILITY`].
    pub fn probabilities(&self, f: Field) -> Vec<f64> {
        let n = f.levels().len();
        let c = self.counts.get(&f).cloned().unwrap_or_else(|| vec![0; n]);
        let compared: u64 = (0..n).filter(|l| !f.is_null(*l as u8)).map(|l| c[l]).sum();
        (0..n)
            .map(|l| {
                if f.is_null(l as u8) {
                    1.0
                } else if compared == 0 {
                    1.0 / n as f64
                } else {
                    (c[l] as f64 / compared as f64).max(MIN_PROBABILITY)
                }
            })
            .collect()
    }
}

/// A model from counted true pairs (m) and counted random pairs (u). A level too rare among both
/// the true pairs and the random ones to say anything (both at the floor: it would weigh 0)
/// takes the probabilities of the level below it: two given names that differ by their ending
/// are different names, and weigh as such, when neither sample says otherwise.
pub fn estimate(m: &LevelCounts, u: &LevelCounts, trained_at: &str, source: &str) -> Model {
    let fields = Field::ALL
        .iter()
        .map(|f| {
            let (mut pm, mut pu) = (m.probabilities(*f), u.probabilities(*f));
            let n = f.levels().len();
            for l in (0..n.saturating_sub(1)).rev() {
                let unseen = pm[l] <= MIN_PROBABILITY && pu[l] <= MIN_PROBABILITY && m.pairs() > 0;
                if unseen && !f.is_null(l as u8) && !f.is_null(l as u8 + 1) {
                    pm[l] = pm[l + 1];
                    pu[l] = pu[l + 1];
                }
            }
            FieldParams {
                field: *f,
                m: pm,
                u: pu,
            }
        })
        .collect();
    Model {
        version: MODEL_VERSION,
        trained_at: trained_at.to_string(),
        source: source.to_string(),
        fields,
    }
}

/// How common each name word is, per commune and in the whole district, from the registry:
/// scope (a commune code, or "" for the whole registry) → part (0 family, 1 middle, 2 given) →
/// canonical word → households. Looked up without allocating (the classifier asks many times).
#[derive(Debug, Clone, Default)]
pub struct TermFrequencies {
    counts: HashMap<String, HashMap<i16, HashMap<String, i64>>>,
    /// Households that have the part, per scope.
    totals: HashMap<String, HashMap<i16, i64>>,
}

impl TermFrequencies {
    /// Record a count as the registry's table holds it (word "" is the part's total).
    pub fn insert(&mut self, scope: &str, part: i16, word: &str, n: i64) {
        if word.is_empty() {
            *self
                .totals
                .entry(scope.to_string())
                .or_default()
                .entry(part)
                .or_default() = n;
        } else {
            *self
                .counts
                .entry(scope.to_string())
                .or_default()
                .entry(part)
                .or_default()
                .entry(word.to_string())
                .or_default() = n;
        }
    }

    /// Households of `scope` that have this part of a name.
    pub fn total(&self, scope: &str, part: i16) -> i64 {
        self.totals
            .get(scope)
            .and_then(|t| t.get(&part))
            .copied()
            .unwrap_or(0)
    }

    fn count(&self, scope: &str, part: i16, word: &str) -> i64 {
        self.counts
            .get(scope)
            .and_then(|c| c.get(&part))
            .and_then(|c| c.get(word))
            .copied()
            .unwrap_or(0)
    }

    /// The frequency of `word` as `field` in `commune` (the district's when the commune has too
    /// few households to say), or `None` when neither has enough.
    pub fn frequency(&self, commune: Option<&str>, field: Field, word: &str) -> Option<f64> {
        let part = field.term_frequency_part()?;
        for scope in [commune.unwrap_or(""), ""] {
            let total = self.total(scope, part);
            if total >= MIN_TF_HOUSEHOLDS {
                // The candidate bears the word: at least one household does.
                return Some(self.count(scope, part, word).max(1) as f64 / total as f64);
            }
        }
        None
    }

    /// Count the name words of one household (as the registry's trigger does: the total of a
    /// part counts the households that have that part).
    pub fn add(&mut self, commune: &str, head_name: &str) {
        for (part, word) in name_parts(head_name) {
            for scope in [commune, ""] {
                let n = self.count(scope, part, &word) + 1;
                self.insert(scope, part, &word, n);
                let t = self.total(scope, part) + 1;
                self.insert(scope, part, "", t);
            }
        }
    }
}

/// The canonical family, middle and given name of a name, as the frequency tables count them
/// (migration 0028's `name_parts()`; a single word is a given name).
pub fn name_parts(head_name: &str) -> Vec<(i16, String)> {
    let w: Vec<String> = crate::domain::text::canonical_words(head_name)
        .iter()
        .map(crate::domain::text::Word::canonical)
        .collect();
    match w.len() {
        0 => Vec::new(),
        1 => vec![(2, w[0].clone())],
        n => {
            let mut out = vec![(0, w[0].clone()), (2, w[n - 1].clone())];
            if n > 2 {
                out.push((1, w[1..n - 1].join(" ")));
            }
            out
        }
    }
}
