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
use crate::domain::duplicates::Thresholds;
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
        birth_year: if visible {
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
    let digits: String = f.cccd.chars().filter(|c| c.is_ascii_digit()).collect();
    Probe {
        commune_code: f.commune_code.trim().to_string(),
        village: f.village.clone(),
        head_name: f.head_name.clone(),
        birth_year: f.birth_year.trim().parse().ok(),
        cccd: (digits.len() == 12).then_some(digits),
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
    let candidates =
        if p.head_name.trim().chars().count() < 3 && p.cccd.is_none() && p.household_code.is_none()
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
}

/// `GET /trung-ho`: search by name, CCCD or household code across all communes and years.
pub async fn search(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    ctx: Ctx,
    Query(p): Query<SearchParams>,
) -> AppResult<SearchPage> {
    let q: String = p.q.unwrap_or_default().trim().chars().take(100).collect();
    let candidates = if q.chars().count() >= 2 {
        duplicates::search(&state.db, &q, state.config.duplicates).await?
    } else {
        Vec::new()
    };
    Ok(SearchPage {
        ctx,
        searched: !q.is_empty(),
        candidates: candidates.iter().map(|c| view(&actor, c)).collect(),
        q,
    })
}

/// The configured thresholds (for the CLI and the tests).
pub fn thresholds() -> Thresholds {
    Thresholds::from_env()
}
