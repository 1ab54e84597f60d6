//! What changes a sponsorship: the commune's decision, cancelling, deliveries and visits (with their photos).

use super::*;

// ----------------------------------------------------------------------------------------------
// Decisions: confirm, reject, cancel

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    pub ly_do: String,
}

async fn decide(
    state: AppState,
    actor: Actor,
    session: Session,
    id: String,
    event: Event,
    reason: &str,
) -> AppResult<Response> {
    let d = visible(&state, &actor, &id).await?;
    let allowed = match event {
        Event::Confirm | Event::Reject => may_decide(&actor, &d),
        Event::Cancel => may_cancel(&actor, &d),
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let back = format!("/nhan-giup/{}", d.id);
    let reason = reason.trim();
    if matches!(event, Event::Reject | Event::Cancel) && reason.is_empty() {
        flash(&session, "error", "Hãy ghi lý do.").await;
        return Ok(Redirect::to(&back).into_response());
    }
    if reason.chars().count() > 500 {
        flash(&session, "error", "Lý do dài quá 500 ký tự.").await;
        return Ok(Redirect::to(&back).into_response());
    }
    let by = By::from(&actor);
    let reason = Some(reason).filter(|r| !r.is_empty());
    match db::decide(&state.db, &by, d.id, event, reason).await {
        Ok(next) => {
            let msg = match next {
                SState::Confirmed => format!("Đã xác nhận hộ {}.", d.head_name),
                SState::Rejected => format!("Đã từ chối đăng ký giúp hộ {}.", d.head_name),
                _ => format!("Đã hủy đăng ký giúp hộ {}.", d.head_name),
            };
            flash(&session, "ok", msg).await;
        }
        Err(ChangeError::Refused(why)) => {
            // A second tap on a slow connection: the first one decided it. Say so, by whom and
            // when, rather than that only pending pledges can be decided.
            let decided = match event {
                Event::Confirm | Event::Reject => db::decision(&state.db, d.id).await?,
                _ => None,
            };
            let said = match decided {
                Some((st, by, Some(at))) if !matches!(st.as_str(), "proposed" | "cancelled") => {
                    let who = by.unwrap_or_else(|| "hệ thống".into());
                    let when = crate::domain::dates::format_date_time(at);
                    let rejected = st == "rejected";
                    let what = if rejected {
                        "đã bị từ chối"
                    } else {
                        "đã được xác nhận"
                    };
                    // The same decision twice is done; the other one is refused.
                    let same = rejected == (event == Event::Reject);
                    Some((
                        if same { "ok" } else { "error" },
                        format!(
                            "Đăng ký giúp hộ {} {what} rồi: {who} ghi lúc {when}.",
                            d.head_name
                        ),
                    ))
                }
                _ => None,
            };
            match said {
                Some((kind, msg)) => flash(&session, kind, msg).await,
                None => flash(&session, "error", why).await,
            }
        }
        Err(ChangeError::NotFound) => return Err(AppError::NotFound),
        Err(ChangeError::AlreadyRecorded) => {}
        Err(ChangeError::Db(e)) => return Err(e.into()),
    }
    Ok(Redirect::to(&back).into_response())
}

pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Confirm, "").await
}

pub async fn reject(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Reject, &f.ly_do).await
}

pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> AppResult<Response> {
    decide(state, actor, session, id, Event::Cancel, &f.ly_do).await
}

// ----------------------------------------------------------------------------------------------
// Deliveries and visits

/// The end of a recorded change: written (one transaction, in `db::`) and said, or (a form sent twice) nothing more
/// written and the user told so; `Err(why)` when the state does not allow it.
async fn settle(
    session: &Session,
    result: Result<SState, ChangeError>,
    ok: impl FnOnce(SState) -> String,
    twice: &str,
) -> AppResult<Result<(), &'static str>> {
    match result {
        Ok(next) => {
            flash(session, "ok", ok(next)).await;
            Ok(Ok(()))
        }
        Err(ChangeError::AlreadyRecorded) => {
            flash(session, "ok", twice).await;
            Ok(Ok(()))
        }
        Err(ChangeError::Refused(why)) => Ok(Err(why)),
        Err(ChangeError::NotFound) => Err(AppError::NotFound),
        Err(ChangeError::Db(e)) => Err(e.into()),
    }
}

/// ", kèm 2 ảnh" when photos came with it.
fn with_photos(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", kèm {n} ảnh")
    }
}

#[derive(Deserialize, Default)]
pub struct DeliveryForm {
    #[serde(flatten)]
    pub input: DeliveryInput,
    #[serde(default)]
    pub phieu: String,
    /// When a phone without signal recorded it (see [`submission`]).
    #[serde(default)]
    pub ghi_luc: String,
}

pub async fn deliver(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    upload: WithPhotos<DeliveryForm>,
) -> AppResult<Response> {
    let WithPhotos {
        form: f,
        files,
        problem,
    } = upload;
    let d = visible(&state, &actor, &id).await?;
    let Some(agency) = actor.agency_id.filter(|_| actor.role == Role::Agency) else {
        return Err(AppError::Forbidden);
    };
    let back = format!("/nhan-giup/{}", d.id);
    let error = |field: &'static str, msg: String| Errors([(field, msg)].into_iter().collect());
    // The photos are checked before anything is written: a bad photo brings the form back with
    // the delivery as typed (the files must be chosen again), and nothing is stored.
    let parsed = match sponsorship::parse_delivery(&f.input, d.pledged_on, today()) {
        Err(e) => Err(Errors(e)),
        Ok(delivery) => match problem {
            Some(why) => Err(error("anh", why)),
            None => match photos::process_all(files).await? {
                Err(why) => Err(error("anh", why)),
                Ok(processed) => Ok((delivery, processed)),
            },
        },
    };
    let errors = match parsed {
        Err(e) => e,
        Ok((delivery, processed)) => {
            let result = db::deliver(
                &state.db,
                &By::from(&actor),
                d.id,
                agency,
                &delivery,
                submission(&f.phieu, &f.ghi_luc),
                &processed,
            )
            .await
            .map(|(next, _)| next);
            let ok = |next: SState| {
                let total = format_vnd(delivery.total_value);
                let with = with_photos(processed.len());
                if next == SState::TargetReached {
                    format!("Đã ghi nhận trao {total}{with} — hộ đã nhận đủ mức hỗ trợ.")
                } else {
                    format!("Đã ghi nhận trao {total}{with}.")
                }
            };
            let twice = "Lần trao này đã được ghi nhận (biểu mẫu gửi hai lần).";
            match settle(&session, result, ok, twice).await? {
                Ok(()) => return Ok(Redirect::to(&back).into_response()),
                Err(why) => error("trao", why.to_string()),
            }
        }
    };
    let page = show_page(
        &state,
        &actor,
        ctx,
        d,
        f.input,
        VisitInput::default(),
        errors,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct VisitForm {
    #[serde(flatten)]
    pub input: VisitInput,
    #[serde(default)]
    pub phieu: String,
    /// When a phone without signal recorded it (see [`submission`]).
    #[serde(default)]
    pub ghi_luc: String,
}

pub async fn visit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    session: Session,
    ctx: Ctx,
    Path(id): Path<String>,
    upload: WithPhotos<VisitForm>,
) -> AppResult<Response> {
    let WithPhotos {
        form: f,
        files,
        problem,
    } = upload;
    let d = visible(&state, &actor, &id).await?;
    // Visible means: district, a member agency, or the household's commune — all may visit.
    let back = format!("/nhan-giup/{}", d.id);
    let error = |field: &'static str, msg: String| Errors([(field, msg)].into_iter().collect());
    let errors = if d.campaign_is_current {
        error(
            "tham",
            "Theo dõi sau hỗ trợ dành cho các hộ được giúp từ những đợt trước.".into(),
        )
    } else {
        match sponsorship::parse_visit(&f.input, d.pledged_on, today()) {
            Err(e) => Errors(e),
            // The official status is the commune's review: only the household's commune
            // official or a clerk records it, never an agency.
            Ok(v) if v.official && !roles::can_edit_household(&actor, &d.commune_code) => error(
                "tham",
                "Tình trạng chính thức của hộ (nghèo, cận nghèo, thoát nghèo) do xã rà soát và chỉ \
                 cán bộ xã của hộ hoặc chuyên viên huyện ghi. Cơ quan, đơn vị ghi tình trạng quan sát \
                 được khi thăm; lần thăm chưa được ghi."
                    .into(),
            ),
            Ok(_) if problem.is_some() => error("anh_tham", problem.unwrap_or_default()),
            Ok(v) => match photos::process_all(files).await? {
                Err(why) => error("anh_tham", why),
                Ok(processed) => {
                let result = db::visit(
                    &state.db,
                    &By::from(&actor),
                    d.id,
                    &v,
                    submission(&f.phieu, &f.ghi_luc),
                    &processed,
                )
                .await
                .map(|(next, _)| next);
                let ok = |_| format!("Đã ghi lần thăm hộ{}.", with_photos(processed.len()));
                let twice = "Lần thăm này đã được ghi (biểu mẫu gửi hai lần).";
                match settle(&session, result, ok, twice).await? {
                    Ok(()) => return Ok(Redirect::to(&back).into_response()),
                    Err(why) => error("tham", why.to_string()),
                }
                }
            },
        }
    };
    let page = show_page(
        &state,
        &actor,
        ctx,
        d,
        DeliveryInput::default(),
        f.input,
        errors,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
