//! The duplicate household check on screen: candidates as the user types (htmx), the same check
//! on submit, and the "Kiểm tra trùng hộ" search page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::error::AppResult;
use super::page::{Ctx, CurrentUser};
use crate::db::duplicates::{self, Candidate, Probe};
use crate::domain::duplicates::Level;
use crate::domain::household::HouseholdInput;
use crate::domain::labels;
use crate::domain::roles::{self, Actor};

/// A candidate as this user may see it: another commune's household shows no personal data to a
/// commune official.
pub struct CandidateView {
    pub id: Option<Uuid>,
    pub head_name: String,
    pub place: String,
    pub birth_year: String,
    pub cccd: String,
    pub household_code: String,
    pub status: &'static str,
    pub level: &'static str,
    pub level_label: &'static str,
    pub reasons: Vec<String>,
    pub history: Vec<String>,
}

pub fn view(actor: &Actor, c: &Candidate) -> CandidateView {
    let visible = roles::can_view_household(actor, &c.commune_code);
    let full_cccd = roles::can_see_full_cccd(actor, &c.commune_code);
    CandidateView {
        id: visible.then_some(c.id),
        head_name: if visible {
            c.head_name.clone()
        } else {
            "Một hộ ở xã khác".into()
        },
        place: format!("{}, {}", c.village, c.commune),
        // Agency staff find the household by name and village; a birth year would let a typed
        // CCCD be checked against a person.
        birth_year: if visible && actor.role != roles::Role::Agency {
            c.birth_year.map(|y| y.to_string()).unwrap_or_default()
        } else {
            String::new()
        },
        cccd: match &c.cccd {
            Some(x) if full_cccd => x.clone(),
            Some(x) if visible => roles::mask_cccd(x),
            _ => String::new(),
        },
        household_code: if visible {
            c.household_code.clone().unwrap_or_default()
        } else {
            String::new()
        },
        status: labels::household_status(&c.status),
        level: c.level.code(),
        level_label: c.level.label(),
        reasons: c.reasons.clone(),
        history: c.history.iter().map(|(y, a)| format!("{y}: {a}")).collect(),
    }
}

/// The probe for a household form, whatever state its fields are in.
pub fn probe(f: &HouseholdInput, exclude: Option<Uuid>) -> Probe {
    use crate::domain::cccd::IdNumber;
    // The one identity-number reader: a CCCD whose leading 0 Excel dropped is read back, and 9
    // digits typed where the CCCD goes are the old CMND.
    let typed = IdNumber::read(&f.cccd);
    Probe {
        commune_code: f.commune_code.trim().to_string(),
        village: f.village.clone(),
        head_name: f.head_name.clone(),
        birth_year: f.birth_year.trim().parse().ok(),
        gender: crate::domain::household::parse_gender(&f.gender)
            .ok()
            .flatten()
            .map(|g| g.code().to_string()),
        cccd: match &typed {
            Some(IdNumber::Cccd(d)) => Some(d.clone()),
            _ => None,
        },
        old_id_number: IdNumber::cmnd(&f.old_id_number).or(match typed {
            Some(IdNumber::Cmnd(d)) => Some(d),
            _ => None,
        }),
        household_code: Some(f.household_code.trim().to_string()).filter(|c| !c.is_empty()),
        exclude,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "households/_candidates.html")]
pub struct CandidatesFragment {
    pub candidates: Vec<CandidateView>,
}

#[derive(Deserialize, Default)]
pub struct CheckForm {
    #[serde(flatten)]
    pub input: HouseholdInput,
    #[serde(default)]
    pub household_id: String,
}

/// `POST /ho/kiem-tra`: the candidates for the form as typed so far (an htmx fragment).
pub async fn check(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Form(f): Form<CheckForm>,
) -> AppResult<CandidatesFragment> {
    let p = probe(&f.input, f.household_id.parse().ok());
    let candidates = if (p.head_name.trim().chars().count() < 3
        && p.cccd.is_none()
        && p.household_code.is_none())
        || p.head_name.chars().count() > crate::domain::household::MAX_NAME
    {
        Vec::new()
    } else {
        duplicates::candidates(&state.db, &p, state.config.duplicates).await?
    };
    Ok(CandidatesFragment {
        candidates: candidates.iter().map(|c| view(&actor, c)).collect(),
    })
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    pub q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "duplicates/search.html")]
pub struct SearchPage {
    pub ctx: Ctx,
    pub q: String,
    pub searched: bool,
    pub candidates: Vec<CandidateView>,
    /// Which model weighs the evidence, and when it was estimated.
    pub model: String,
}

/// `GET /trung-ho`: search by name, CCCD or household code across all communes and years.
pub async fn search(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<SearchParams>,
) -> AppResult<SearchPage> {
    let q: String = p.q.unwrap_or_default().trim().chars().take(100).collect();
    let lookup = super::lookups::guard(&state, &actor, &q, "/trung-ho").await?;
    let candidates = if q.chars().count() >= 2 {
        duplicates::search(
            &state.db,
            &q,
            state.config.duplicates,
            actor.commune_code.as_deref(),
        )
        .await?
    } else {
        Vec::new()
    };
    if let Some(lookup) = lookup {
        let found = candidates.iter().any(|c| c.level == Level::Certain);
        lookup.record(&state, &actor, found).await?;
    }
    let model = duplicates::model(&state.db).await?;
    Ok(SearchPage {
        ctx,
        model: format!("ước lượng {}", model.trained_at),
        searched: !q.is_empty(),
        candidates: candidates.iter().map(|c| view(&actor, c)).collect(),
        q,
    })
}

// ---------------------------------------------------------------------------------------------
// Review of suspected pairs already in the registry: merge, or "not a duplicate".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::error::AppError;
use super::forms::nonblank;
use super::page::flash;
use crate::db::audit::By;
use crate::db::duplicates::{MergeError, MergeRow, SuspectedPair};
use crate::domain::roles::Scope;

#[derive(Deserialize, Default)]
pub struct ReviewParams {
    pub xa: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "duplicates/review.html")]
pub struct ReviewPage {
    pub ctx: Ctx,
    pub commune: String,
    pub communes: Vec<(String, String)>,
    pub pairs: Vec<SuspectedPair>,
    pub merges: Vec<MergeRow>,
    pub can_undo: bool,
}

impl ReviewPage {
    pub fn birth(&self, y: &Option<i32>) -> String {
        y.map(|y| y.to_string()).unwrap_or_else(|| "—".into())
    }
    pub fn when(&self, m: &MergeRow) -> String {
        m.created_at
            .with_timezone(&crate::domain::dates::vietnam_offset())
            .format("%d/%m/%Y %H:%M")
            .to_string()
    }
}

/// The commune this user reviews: their own, or the one a clerk chose (default: the first).
fn review_commune(
    actor: &Actor,
    asked: Option<String>,
    communes: &[(String, String)],
) -> Option<String> {
    match actor.scope() {
        Scope::Commune(covered) => asked
            .filter(|c| covered.contains(c))
            .or_else(|| actor.commune_code.clone()),
        _ => asked
            .filter(|c| communes.iter().any(|(code, _)| code == c))
            .or_else(|| communes.first().map(|c| c.0.clone())),
    }
}

pub async fn review(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<ReviewParams>,
) -> AppResult<ReviewPage> {
    let mut communes = crate::db::users::communes_for_select(&state.db).await?;
    if let Scope::Commune(covered) = actor.scope() {
        communes.retain(|(c, _)| covered.contains(c));
    }
    let commune = review_commune(&actor, nonblank(&p.xa), &communes).unwrap_or_default();
    let pairs = duplicates::scan(&state.db, Some(&commune), state.config.duplicates, false).await?;
    let merges = duplicates::merges(&state.db, Some(&commune)).await?;
    Ok(ReviewPage {
        ctx,
        commune,
        communes,
        pairs,
        merges,
        can_undo: actor.is_district(),
    })
}

#[derive(Deserialize, Default)]
pub struct PairForm {
    #[serde(default)]
    pub a: String,
    #[serde(default)]
    pub b: String,
    /// For a merge: which of the two stays ("a" or "b").
    #[serde(default)]
    pub giu: String,
    #[serde(default)]
    pub ly_do: String,
}

/// Both records exist and this user may change both; returns their commune.
async fn pair_in_scope(
    state: &AppState,
    actor: &Actor,
    f: &PairForm,
) -> AppResult<(Uuid, Uuid, String)> {
    let a: Uuid = f.a.parse().map_err(|_| AppError::NotFound)?;
    let b: Uuid = f.b.parse().map_err(|_| AppError::NotFound)?;
    let ha = crate::db::households::get(&state.db, a)
        .await?
        .ok_or(AppError::NotFound)?;
    let hb = crate::db::households::get(&state.db, b)
        .await?
        .ok_or(AppError::NotFound)?;
    if !roles::can_edit_household(actor, &ha.commune_code)
        || !roles::can_edit_household(actor, &hb.commune_code)
    {
        return Err(AppError::NotFound);
    }
    Ok((a, b, ha.commune_code))
}

fn reason_of(f: &PairForm) -> Option<String> {
    let r: String = f.ly_do.trim().chars().take(500).collect();
    (!r.is_empty()).then_some(r)
}

pub async fn not_duplicate(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Form(f): Form<PairForm>,
) -> AppResult<Response> {
    let (a, b, commune) = pair_in_scope(&state, &actor, &f).await?;
    let back = format!("/trung-ho/ra-soat?xa={commune}");
    let Some(reason) = reason_of(&f) else {
        flash(
            &session,
            "error",
            "Hãy ghi lý do vì sao hai hộ này khác nhau.",
        )
        .await;
        return Ok(Redirect::to(&back).into_response());
    };
    duplicates::dismiss(&state.db, &By::from(&actor), a, b, &reason).await?;
    flash(
        &session,
        "ok",
        "Đã ghi nhận: hai hộ khác nhau. Cặp này sẽ không được gợi ý lại.",
    )
    .await;
    Ok(Redirect::to(&back).into_response())
}

pub async fn merge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Form(f): Form<PairForm>,
) -> AppResult<Response> {
    let (a, b, commune) = pair_in_scope(&state, &actor, &f).await?;
    let back = format!("/trung-ho/ra-soat?xa={commune}");
    let (survivor, merged) = match f.giu.as_str() {
        "a" => (a, b),
        "b" => (b, a),
        _ => {
            flash(&session, "error", "Hãy chọn hộ được giữ lại.").await;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    let Some(reason) = reason_of(&f) else {
        flash(&session, "error", "Hãy ghi lý do gộp hai hộ.").await;
        return Ok(Redirect::to(&back).into_response());
    };
    match duplicates::merge(&state.db, &By::from(&actor), survivor, merged, &reason).await {
        Ok(_) => {
            flash(
                &session,
                "ok",
                "Đã gộp hai hộ. Chuyên viên huyện có thể hoàn tác nếu cần.",
            )
            .await;
            Ok(Redirect::to(&format!("/ho/{survivor}")).into_response())
        }
        Err(MergeError::Db(e)) => Err(e.into()),
        Err(e) => {
            flash(&session, "error", e.to_string()).await;
            Ok(Redirect::to(&back).into_response())
        }
    }
}

pub async fn unmerge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> AppResult<Response> {
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    match duplicates::unmerge(&state.db, &By::from(&actor), id).await {
        Ok(()) => {
            flash(
                &session,
                "ok",
                "Đã hoàn tác việc gộp: hai hộ trở lại như trước.",
            )
            .await;
            Ok(Redirect::to("/trung-ho/ra-soat").into_response())
        }
        Err(MergeError::NotFound) => Err(AppError::NotFound),
        Err(MergeError::Db(e)) => Err(e.into()),
        Err(e) => {
            flash(&session, "error", e.to_string()).await;
            Ok((StatusCode::SEE_OTHER, Redirect::to("/trung-ho/ra-soat")).into_response())
        }
    }
}
