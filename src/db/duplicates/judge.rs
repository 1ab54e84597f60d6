//! What the classifier needs from the database besides the two records: the model in force
//! (`dedupe_models`, else the built-in one), the registry's word frequencies
//! (`name_word_counts`), and for `giupdo dedupe train` a random sample of households and a
//! place to store what it estimated.

use sqlx::PgPool;

use crate::domain::duplicates::train::OwnedRecord;
use crate::domain::duplicates::{
    Field, Model, Record, Scope, TermFrequencies, Thresholds, Verdict, classify,
};

/// The model in force: the newest stored one that reads (`giupdo dedupe train`), else the one
/// built in. A stored model that does not read (another version, damaged) is skipped, and the log
/// says so.
pub async fn model(pool: &PgPool) -> sqlx::Result<Model> {
    let stored: Vec<(i64, serde_json::Value)> =
        sqlx::query_as("SELECT id, params FROM dedupe_models ORDER BY id DESC LIMIT 5")
            .fetch_all(pool)
            .await?;
    for (id, params) in stored {
        match Model::from_json(&params.to_string()) {
            Ok(m) => return Ok(m),
            Err(e) => tracing::warn!(
                model = id,
                error = %e,
                "mô hình kiểm tra trùng hộ đã lưu không dùng được; dùng mô hình trước đó"
            ),
        }
    }
    Ok(Model::builtin())
}

/// commune, village, name, birth year, gender, CCCD, CMND, household code.
type SampleRow = (
    String,
    String,
    String,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Households drawn at random from the database, for u.
pub async fn registry_sample(pool: &PgPool, n: i64) -> sqlx::Result<Vec<OwnedRecord>> {
    let rows: Vec<SampleRow> = sqlx::query_as(
        "SELECT h.commune_code, v.name, h.head_name, h.birth_year, h.gender, h.cccd, h.old_id_number, h.household_code
         FROM households h JOIN villages v ON v.id = h.village_id
         WHERE h.merged_into IS NULL ORDER BY random() LIMIT $1",
    )
    .bind(n)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(commune, village, head_name, birth_year, gender, cccd, old_id, household_code)| {
                OwnedRecord {
                    commune_name: commune.clone(),
                    commune,
                    village,
                    head_name,
                    birth_year,
                    gender,
                    cccd,
                    old_id,
                    household_code,
                }
            },
        )
        .collect())
}

/// Store a model `giupdo dedupe train` estimated; the check uses it from now on.
pub async fn store_model(
    pool: &PgPool,
    model: &Model,
    by: &str,
    fit_pairs: usize,
    registry: usize,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO dedupe_models (trained_by, params, fit_pairs, registry_pairs)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(by)
    .bind(sqlx::types::Json(model))
    .bind(fit_pairs as i32)
    .bind(registry as i32)
    .execute(pool)
    .await?;
    Ok(())
}

/// How common the name words of `names` are in `communes` and in the whole registry.
pub async fn frequencies(
    pool: &PgPool,
    communes: &[String],
    names: &[&str],
) -> sqlx::Result<TermFrequencies> {
    let mut words: Vec<String> = names
        .iter()
        .flat_map(|n| crate::domain::duplicates::model::name_parts(n))
        .map(|(_, w)| w)
        .collect();
    words.push(String::new());
    words.sort_unstable();
    words.dedup();
    let mut scopes: Vec<String> = communes.to_vec();
    scopes.push(String::new());
    let rows: Vec<(String, i16, String, i64)> = sqlx::query_as(
        "SELECT commune_code, part, word, n FROM name_word_counts
         WHERE commune_code = ANY($1) AND word = ANY($2)",
    )
    .bind(&scopes)
    .bind(&words)
    .fetch_all(pool)
    .await?;
    Ok(frequency_table(rows))
}

pub(super) fn frequency_table(rows: Vec<(String, i16, String, i64)>) -> TermFrequencies {
    let mut tf = TermFrequencies::default();
    for (scope, part, word, n) in rows {
        tf.insert(&scope, part, &word, n);
    }
    tf
}

/// Everything the classifier needs besides the two records: the model, the word frequencies,
/// the thresholds.
pub struct Judge {
    pub model: Model,
    pub tf: TermFrequencies,
    pub thresholds: Thresholds,
}

impl Judge {
    pub async fn load(
        pool: &PgPool,
        communes: &[String],
        names: &[&str],
        thresholds: Thresholds,
    ) -> sqlx::Result<Judge> {
        Ok(Judge {
            model: model(pool).await?,
            tf: frequencies(pool, communes, names).await?,
            thresholds,
        })
    }

    /// The one classification of a pair (`domain::duplicates::classify`), frequencies taken in
    /// `a`'s commune.
    pub fn classify(&self, a: &Record<'_>, b: &Record<'_>, scope: Scope) -> Option<Verdict> {
        let commune = a.commune.or(b.commune);
        let tf = |f: Field, w: &str| {
            self.tf.frequency(commune, f, w).map(|x| {
                let local = commune.is_some_and(|c| {
                    self.tf.total(c, f.term_frequency_part().unwrap_or(2))
                        >= crate::domain::duplicates::model::MIN_TF_HOUSEHOLDS
                });
                (x, local)
            })
        };
        classify(&self.model, a, b, &tf, scope, self.thresholds)
    }
}
