//! Communes and their villages.

use serde::Serialize;
use sqlx::{Acquire, Postgres};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, By};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommuneRow {
    pub code: String,
    pub name: String,
    pub merged_into_code: String,
    pub merged_into_name: String,
    pub villages: i64,
    pub households: i64,
}

pub async fn communes(pool: &PgPool) -> sqlx::Result<Vec<CommuneRow>> {
    sqlx::query_as!(
        CommuneRow,
        r#"SELECT c.code, c.name, c.merged_into_code, c.merged_into_name,
                (SELECT count(*) FROM villages v
                  WHERE v.commune_code = c.code AND v.merged_into IS NULL) AS "villages!",
                (SELECT count(*) FROM households h WHERE h.commune_code = c.code) AS "households!"
         FROM communes c ORDER BY c.code"#
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VillageRow {
    pub id: Uuid,
    pub name: String,
    pub households: i64,
}

/// The communes as merged on 01/07/2025: (new code, new name), by name.
pub async fn merged_communes(pool: &PgPool) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        "SELECT DISTINCT merged_into_code, merged_into_name FROM communes ORDER BY merged_into_name"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.merged_into_code, r.merged_into_name))
        .collect())
}

/// The name of a commune as merged on 01/07/2025, by its new code.
pub async fn merged_commune_name(pool: &PgPool, code: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT merged_into_name FROM communes WHERE merged_into_code = $1 LIMIT 1",
        code
    )
    .fetch_optional(pool)
    .await
}

/// The commune's villages (not those merged into another).
pub async fn villages(pool: &PgPool, commune: &str) -> sqlx::Result<Vec<VillageRow>> {
    sqlx::query_as!(
        VillageRow,
        r#"SELECT v.id, v.name,
                (SELECT count(*) FROM households h WHERE h.village_id = v.id) AS "households!"
         FROM villages v WHERE v.commune_code = $1 AND v.merged_into IS NULL
         ORDER BY normalize_name(v.name)"#,
        commune
    )
    .fetch_all(pool)
    .await
}

/// The commune's village with the same key as `name` (`domain::text::village_key`): its id and
/// its name as stored.
pub async fn village_by_key(
    conn: impl sqlx::PgExecutor<'_>,
    commune: &str,
    name: &str,
) -> sqlx::Result<Option<(Uuid, String)>> {
    let row = sqlx::query!(
        "SELECT id, name FROM villages
         WHERE commune_code = $1 AND village_key(name) = village_key($2) AND merged_into IS NULL",
        commune,
        name
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.id, r.name)))
}

/// The villages (id, stored name) of these communes, by (commune, key): what a typed village maps to.
pub async fn villages_by_key(
    pool: &PgPool,
    communes: &[String],
) -> sqlx::Result<std::collections::HashMap<(String, String), (Uuid, String)>> {
    let rows = sqlx::query!(
        r#"SELECT commune_code, village_key(name) AS "key!", id, name FROM villages
         WHERE commune_code = ANY($1) AND merged_into IS NULL"#,
        communes
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.commune_code, r.key), (r.id, r.name)))
        .collect())
}

/// What adding a village did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New(Uuid),
    /// The commune already has a village with this key, under this name.
    Exists(Uuid, String),
}

/// Add a village, unless the commune has one with the same key (spelled any way, with or
/// without Thôn/Bản/…): then that one.
pub async fn add_village(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    commune: &str,
    name: &str,
) -> sqlx::Result<Added> {
    let mut tx = db.begin().await?;
    let out = add_village_in(&mut tx, by, commune, name).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn add_village_in(
    conn: &mut PgConnection,
    by: &By,
    commune: &str,
    name: &str,
) -> sqlx::Result<Added> {
    if let Some((id, existing)) = village_by_key(&mut *conn, commune, name).await? {
        return Ok(Added::Exists(id, existing));
    }
    let id: Option<Uuid> = sqlx::query_scalar!(
        "INSERT INTO villages (commune_code, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
        commune,
        name
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        // Added by someone else a moment ago.
        return match village_by_key(&mut *conn, commune, name).await? {
            Some((id, existing)) => Ok(Added::Exists(id, existing)),
            None => Err(sqlx::Error::RowNotFound),
        };
    };
    #[derive(Serialize)]
    struct V<'a> {
        commune_code: &'a str,
        name: &'a str,
    }
    audit::created(
        conn,
        by,
        "village",
        id,
        &V {
            commune_code: commune,
            name,
        },
    )
    .await?;
    Ok(Added::New(id))
}

/// A merge of two villages, for the commune page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VillageMergeRow {
    pub id: Uuid,
    pub survivor_name: String,
    pub merged_name: String,
    pub households: i32,
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub undone: bool,
}

pub async fn village_merges(pool: &PgPool, commune: &str) -> sqlx::Result<Vec<VillageMergeRow>> {
    sqlx::query_as(
        "SELECT m.id, s.name AS survivor_name, g.name AS merged_name,
                coalesce(array_length(m.households, 1), 0) AS households, m.reason, m.created_at,
                m.undone_at IS NOT NULL AS undone
         FROM village_merges m JOIN villages s ON s.id = m.survivor JOIN villages g ON g.id = m.merged
         WHERE m.commune_code = $1 ORDER BY m.created_at DESC LIMIT 50",
    )
    .bind(commune)
    .fetch_all(pool)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum VillageMergeError {
    #[error("Hai thôn phải là hai thôn khác nhau, cùng một xã, chưa bị gộp.")]
    NotTwoVillages,
    #[error("Lần gộp này đã được hoàn tác rồi.")]
    AlreadyUndone,
    #[error(
        "Không hoàn tác được: thôn {0} đã được gộp tiếp vào thôn khác hoặc đã có thôn khác cùng tên."
    )]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Merge `merged` into `survivor` (two villages of `commune`): the households move, the merged
/// village stays (for the undo) but is no longer offered; the ledger remembers which households
/// moved. Audited.
pub async fn merge_villages(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    commune: &str,
    survivor: Uuid,
    merged: Uuid,
    reason: &str,
) -> Result<Uuid, VillageMergeError> {
    let mut tx = db.begin().await?;
    let out = merge_villages_in(&mut tx, by, commune, survivor, merged, reason).await?;
    tx.commit().await?;
    Ok(out)
}

/// The same, inside the caller's transaction.
pub(crate) async fn merge_villages_in(
    conn: &mut PgConnection,
    by: &By,
    commune: &str,
    survivor: Uuid,
    merged: Uuid,
    reason: &str,
) -> Result<Uuid, VillageMergeError> {
    let names: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, name FROM villages WHERE id = ANY($1) AND commune_code = $2 AND merged_into IS NULL
         ORDER BY id FOR UPDATE",
    )
    .bind(vec![survivor, merged])
    .bind(commune)
    .fetch_all(&mut *conn)
    .await?;
    if survivor == merged || names.len() != 2 {
        return Err(VillageMergeError::NotTwoVillages);
    }
    let moved: Vec<Uuid> = sqlx::query_scalar!(
        "UPDATE households SET village_id = $1, updated_at = now() WHERE village_id = $2 RETURNING id",
        survivor,
        merged
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE villages SET merged_into = $1 WHERE id = $2",
        survivor,
        merged
    )
    .execute(&mut *conn)
    .await?;
    let id: Uuid = sqlx::query_scalar!(
        "INSERT INTO village_merges (commune_code, survivor, merged, households, reason, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        commune,
        survivor,
        merged,
        &moved,
        reason,
        by.user_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let name = |id: Uuid| {
        names
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Merge,
            entity: "village",
            entity_id: merged.to_string(),
            before: Some(serde_json::json!({ "village": name(merged), "households": moved })),
            after: Some(serde_json::json!({ "survivor": survivor, "survivor_name": name(survivor), "ledger": id })),
            reason: Some(reason),
        },
    )
    .await?;
    Ok(id)
}

/// Undo a merge exactly: the households it moved go back, the merged village is offered again.
pub async fn undo_village_merge(
    db: impl Acquire<'_, Database = Postgres>,
    by: &By,
    commune: &str,
    ledger: Uuid,
) -> Result<(), VillageMergeError> {
    let mut tx = db.begin().await?;
    undo_village_merge_in(&mut tx, by, commune, ledger).await?;
    tx.commit().await?;
    Ok(())
}

/// The same, inside the caller's transaction.
pub(crate) async fn undo_village_merge_in(
    conn: &mut PgConnection,
    by: &By,
    commune: &str,
    ledger: Uuid,
) -> Result<(), VillageMergeError> {
    let row: Option<(Uuid, Uuid, Vec<Uuid>, bool)> = sqlx::query_as(
        "SELECT survivor, merged, households, undone_at IS NOT NULL FROM village_merges
         WHERE id = $1 AND commune_code = $2 FOR UPDATE",
    )
    .bind(ledger)
    .bind(commune)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((survivor, merged, households, undone)) = row else {
        return Err(VillageMergeError::NotTwoVillages);
    };
    if undone {
        return Err(VillageMergeError::AlreadyUndone);
    }
    let name: String = sqlx::query_scalar!("SELECT name FROM villages WHERE id = $1", merged)
        .fetch_one(&mut *conn)
        .await?;
    let back = sqlx::query!(
        "UPDATE villages SET merged_into = NULL WHERE id = $1 AND merged_into = $2",
        merged,
        survivor
    )
    .execute(&mut *conn)
    .await;
    match back {
        Ok(r) if r.rows_affected() == 1 => {}
        Ok(_) => return Err(VillageMergeError::Conflict(name)),
        Err(e) if super::constraints::broke(&e, "villages_commune_key_key") => {
            return Err(VillageMergeError::Conflict(name));
        }
        Err(e) => return Err(e.into()),
    }
    let moved = sqlx::query!(
        "UPDATE households SET village_id = $1, updated_at = now() WHERE id = ANY($2) AND village_id = $3",
        merged,
        &households,
        survivor
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query!(
        "UPDATE village_merges SET undone_at = now(), undone_by = $2 WHERE id = $1",
        ledger,
        by.user_id
    )
    .execute(&mut *conn)
    .await?;
    audit::write(
        conn,
        by,
        audit::Entry {
            action: audit::Action::Unmerge,
            entity: "village",
            entity_id: merged.to_string(),
            before: Some(serde_json::json!({ "survivor": survivor, "ledger": ledger })),
            after: Some(serde_json::json!({ "village": name, "households_back": moved })),
            reason: None,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Administrative units as dated data (issue #28).

/// What loading a units file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitsLoaded {
    pub units: usize,
    pub provinces: usize,
    pub districts: usize,
    pub communes: usize,
    pub successors: usize,
    /// Communes new to the registry (households can now be registered in them).
    pub new_communes: usize,
}

/// Load checked units (`domain::places::read`) in one transaction: each code's periods replaced
/// by the file's, successors with them; commune-level codes become communes of the registry
/// (existing ones keep their name), each with the commune it is today. Audited as one import.
pub async fn load_units(
    pool: &PgPool,
    by: &By,
    units: &[crate::domain::places::Unit],
) -> sqlx::Result<UnitsLoaded> {
    let mut tx = pool.begin().await?;
    let codes: Vec<String> = units
        .iter()
        .map(|u| u.code.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    sqlx::query("DELETE FROM admin_units WHERE code = ANY($1)")
        .bind(&codes)
        .execute(&mut *tx)
        .await?;
    let mut done = UnitsLoaded::default();
    for u in units {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&u.code)
        .bind(&u.name)
        .bind(u.level)
        .bind(&u.parent)
        .bind(u.valid_from)
        .bind(u.valid_to)
        .fetch_one(&mut *tx)
        .await?;
        for s in &u.successors {
            sqlx::query(
                "INSERT INTO admin_unit_successors (unit_id, successor_code) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(s)
            .execute(&mut *tx)
            .await?;
            done.successors += 1;
        }
        done.units += 1;
        match u.level {
            "province" => done.provinces += 1,
            "district" => done.districts += 1,
            _ => done.communes += 1,
        }
    }
    // Commune-level codes as communes of the registry: the latest period's name, its district
    // (while there was one) and province.
    for code in &codes {
        let Some(latest) = units
            .iter()
            .filter(|u| &u.code == code && u.level == "commune")
            .max_by_key(|u| u.valid_from)
        else {
            continue;
        };
        let inserted = sqlx::query(
            "WITH p AS (SELECT level, code, parent_code FROM admin_units
                        WHERE code = $3 AND $5::date BETWEEN valid_from AND coalesce(valid_to, 'infinity'))
             INSERT INTO communes (code, name, kind, district_code, province_code, merged_into_code, merged_into_name)
             SELECT $1, $2, $4,
                    (SELECT code FROM p WHERE level = 'district'),
                    coalesce((SELECT parent_code FROM p WHERE level = 'district'), (SELECT code FROM p)),
                    $1, $2
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(code)
        .bind(&latest.name)
        .bind(&latest.parent)
        .bind(latest.commune_kind())
        .bind(latest.valid_from)
        .execute(&mut *tx)
        .await?;
        done.new_communes += inserted.rows_affected() as usize;
    }
    // Each commune's commune of today, following successors.
    sqlx::query(
        "UPDATE communes c SET merged_into_code = t.code, merged_into_name = t.name
         FROM (SELECT c2.code AS old, u.code, u.name FROM communes c2
               JOIN admin_units u ON u.code = commune_on(c2.code, current_date)
                AND current_date BETWEEN u.valid_from AND coalesce(u.valid_to, 'infinity')
               WHERE c2.code = ANY($1) OR commune_on(c2.code, current_date) = ANY($1)) t
         WHERE c.code = t.old AND (c.merged_into_code, c.merged_into_name) IS DISTINCT FROM (t.code, t.name)",
    )
    .bind(&codes)
    .execute(&mut *tx)
    .await?;
    audit::write(
        &mut tx,
        by,
        audit::Entry {
            action: audit::Action::Import,
            entity: "admin_units",
            entity_id: codes.first().cloned().unwrap_or_default(),
            before: None,
            after: audit::json(&done),
            reason: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// The commune a code stands for on a day (following successors): `commune_on` in SQL.
pub async fn commune_on(pool: &PgPool, code: &str, day: chrono::NaiveDate) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT commune_on($1, $2)")
        .bind(code)
        .bind(day)
        .fetch_one(pool)
        .await
}

/// The codes a commune official's commune covers in the campaign in progress: itself and every
/// code that is part of it on the current campaign's registration deadline (in a 2026 campaign
/// the new Xã Hoa Thám covers the old Xã Hưng Đạo; in 2024 it did not). Only the communes that
/// share its commune of today (`merged_into_code`, indexed) are followed through the successors.
pub async fn covered_codes(pool: &PgPool, code: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT c.code FROM communes c,
                (SELECT coalesce((SELECT registration_deadline FROM campaigns WHERE is_current),
                                 current_date) AS d) k
         WHERE c.code = $1
            OR (c.merged_into_code = (SELECT merged_into_code FROM communes WHERE code = $1)
                AND commune_on(c.code, k.d) = $1)
         ORDER BY c.code",
    )
    .bind(code)
    .fetch_all(pool)
    .await
}
