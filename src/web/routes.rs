//! Every route of the app with its access rule, in one table: the router is built from it and the
//! authorization test matrix iterates over it, so no route exists without a decided rule.

use axum::http::Method;
use axum::routing::MethodRouter;

use super::AppState;
use super::{
    accounts, admin, agencies, audit, auth, campaign_rules, campaigns, duplicates, effectiveness,
    health, history, home, households, imports, offline, photos, places, profiles, reports,
    sponsorships,
};
use crate::domain::roles::{ADMIN, Access, DISTRICT, Role};

/// Those who keep the household registry: the district and the commune officials.
const REGISTRY: &[Role] = &[Role::Admin, Role::Clerk, Role::Province, Role::Commune];
/// Agency staff: they pledge and deliver.
const AGENCY: &[Role] = &[Role::Agency];
/// Commune officials: they confirm or reject (R3).
const COMMUNE: &[Role] = &[Role::Commune];
/// Who may withdraw a pledge: the lead agency or the district.
const CANCELLERS: &[Role] = &[Role::Admin, Role::Clerk, Role::Province, Role::Agency];

/// One row of the route table: what the authorization test matrix iterates over.
#[derive(Debug, Clone)]
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

type Routes = Vec<(RouteDef, MethodRouter<AppState>)>;

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> (RouteDef, MethodRouter<AppState>) {
    (
        RouteDef {
            method,
            path,
            access,
        },
        handler,
    )
}

/// Every route of the app with its access rule. A route can only be added here, so it cannot
/// be added without deciding who may reach it.
pub(super) fn routes() -> Routes {
    use axum::routing::{get, post};
    let signed_in = Access::SignedIn;
    vec![
        r(Method::GET, "/", Access::Public, get(home::index)),
        r(
            Method::GET,
            "/healthz",
            Access::Public,
            get(health::healthz),
        ),
        r(
            Method::GET,
            "/dang-nhap",
            Access::Public,
            get(auth::login_form),
        ),
        r(
            Method::POST,
            "/dang-nhap",
            Access::Public,
            post(auth::login),
        ),
        r(Method::POST, "/dang-xuat", signed_in, post(auth::logout)),
        // Working without signal (issue #27): the service worker must be at the root to cover
        // the app; it holds no data. The queue page is filled on the phone.
        r(
            Method::GET,
            "/sw.js",
            Access::Public,
            get(offline::service_worker),
        ),
        r(Method::GET, "/ngoai-tuyen", signed_in, get(offline::queue)),
        r(
            Method::GET,
            "/bang-dieu-khien",
            signed_in,
            get(home::dashboard),
        ),
        r(
            Method::GET,
            "/tai-khoan/mat-khau",
            signed_in,
            get(accounts::password_form),
        ),
        r(
            Method::POST,
            "/tai-khoan/mat-khau",
            signed_in,
            post(accounts::change_password),
        ),
        r(
            Method::GET,
            "/quan-tri/nguoi-dung",
            Access::Roles(ADMIN),
            get(admin::list_users),
        ),
        r(
            Method::GET,
            "/quan-tri/nguoi-dung/moi",
            Access::Roles(ADMIN),
            get(admin::new_user_form),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung",
            Access::Roles(ADMIN),
            post(admin::create_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/khoa",
            Access::Roles(ADMIN),
            post(admin::disable_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/mo-khoa",
            Access::Roles(ADMIN),
            post(admin::enable_user),
        ),
        r(
            Method::POST,
            "/quan-tri/nguoi-dung/{id}/dat-mat-khau",
            Access::Roles(ADMIN),
            post(admin::reset_password),
        ),
        r(
            Method::GET,
            "/nhat-ky",
            Access::Roles(DISTRICT),
            get(audit::list),
        ),
        // Campaigns (R1)
        r(
            Method::GET,
            "/dot-van-dong",
            Access::Roles(DISTRICT),
            get(campaigns::list),
        ),
        r(
            Method::GET,
            "/dot-van-dong/moi",
            Access::Roles(DISTRICT),
            get(campaigns::new_form),
        ),
        r(
            Method::POST,
            "/dot-van-dong",
            Access::Roles(DISTRICT),
            post(campaigns::create),
        ),
        r(
            Method::GET,
            "/dot-van-dong/{id}/sua",
            Access::Roles(DISTRICT),
            get(campaigns::edit_form),
        ),
        r(
            Method::POST,
            "/dot-van-dong/{id}",
            Access::Roles(DISTRICT),
            post(campaigns::update),
        ),
        // The campaign's rule table and forms of support, and next year's copy (issue #28)
        r(
            Method::GET,
            "/dot-van-dong/{id}/quy-tac",
            Access::Roles(DISTRICT),
            get(campaign_rules::show),
        ),
        r(
            Method::POST,
            "/dot-van-dong/{id}/quy-tac",
            Access::Roles(DISTRICT),
            post(campaign_rules::save),
        ),
        r(
            Method::GET,
            "/dot-van-dong/{id}/sao-chep",
            Access::Roles(DISTRICT),
            get(campaign_rules::copy_form),
        ),
        r(
            Method::POST,
            "/dot-van-dong/{id}/sao-chep",
            Access::Roles(DISTRICT),
            post(campaign_rules::copy),
        ),
        // Agencies (R2)
        r(
            Method::GET,
            "/don-vi",
            Access::Roles(DISTRICT),
            get(agencies::list),
        ),
        r(
            Method::GET,
            "/don-vi/moi",
            Access::Roles(DISTRICT),
            get(agencies::new_form),
        ),
        r(
            Method::POST,
            "/don-vi",
            Access::Roles(DISTRICT),
            post(agencies::create),
        ),
        r(Method::GET, "/don-vi/{id}", signed_in, get(agencies::show)),
        r(
            Method::GET,
            "/don-vi/{id}/sua",
            Access::Roles(DISTRICT),
            get(agencies::edit_form),
        ),
        r(
            Method::POST,
            "/don-vi/{id}",
            Access::Roles(DISTRICT),
            post(agencies::update),
        ),
        r(
            Method::POST,
            "/don-vi/{id}/chi-tieu",
            Access::Roles(DISTRICT),
            post(agencies::set_override),
        ),
        // Places
        r(
            Method::GET,
            "/xa",
            Access::Roles(REGISTRY),
            get(places::communes),
        ),
        r(
            Method::GET,
            "/xa/{code}",
            Access::Roles(REGISTRY),
            get(places::commune),
        ),
        r(
            Method::POST,
            "/xa/{code}/thon",
            Access::Roles(REGISTRY),
            post(places::add_village),
        ),
        r(
            Method::POST,
            "/xa/{code}/gop-thon",
            Access::Roles(DISTRICT),
            post(places::merge_villages),
        ),
        r(
            Method::POST,
            "/xa/{code}/gop-thon/{id}/hoan-tac",
            Access::Roles(DISTRICT),
            post(places::undo_village_merge),
        ),
        // Households
        r(Method::GET, "/ho", signed_in, get(households::list)),
        r(
            Method::GET,
            "/ho/moi",
            Access::Roles(REGISTRY),
            get(households::new_form),
        ),
        r(
            Method::POST,
            "/ho",
            Access::Roles(REGISTRY),
            post(households::create),
        ),
        r(Method::GET, "/ho/{id}", signed_in, get(households::show)),
        r(
            Method::GET,
            "/ho/{id}/sua",
            Access::Roles(REGISTRY),
            get(households::edit_form),
        ),
        r(
            Method::POST,
            "/ho/{id}",
            Access::Roles(REGISTRY),
            post(households::update),
        ),
        // Duplicate household check (R4)
        r(
            Method::POST,
            "/ho/kiem-tra",
            Access::Roles(REGISTRY),
            post(duplicates::check),
        ),
        r(Method::GET, "/trung-ho", signed_in, get(duplicates::search)),
        r(
            Method::GET,
            "/trung-ho/ra-soat",
            Access::Roles(REGISTRY),
            get(duplicates::review),
        ),
        r(
            Method::POST,
            "/trung-ho/khong-trung",
            Access::Roles(REGISTRY),
            post(duplicates::not_duplicate),
        ),
        r(
            Method::POST,
            "/trung-ho/gop",
            Access::Roles(REGISTRY),
            post(duplicates::merge),
        ),
        r(
            Method::POST,
            "/trung-ho/gop/{id}/hoan-tac",
            Access::Roles(DISTRICT),
            post(duplicates::unmerge),
        ),
        // Reports (R9): scoped inside each handler, so every signed-in user gets their own part.
        r(Method::GET, "/bao-cao", signed_in, get(reports::summary)),
        r(
            Method::GET,
            "/bao-cao/tong-hop.xlsx",
            signed_in,
            get(reports::summary_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/tong-hop.csv",
            signed_in,
            get(reports::summary_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/in",
            signed_in,
            get(reports::summary_print),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi",
            signed_in,
            get(reports::agencies),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi.xlsx",
            signed_in,
            get(reports::agencies_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/don-vi.csv",
            signed_in,
            get(reports::agencies_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam",
            signed_in,
            get(reports::years),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam.xlsx",
            signed_in,
            get(reports::years_xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/nhieu-nam.csv",
            signed_in,
            get(reports::years_csv),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua",
            signed_in,
            get(effectiveness::page),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua.xlsx",
            signed_in,
            get(effectiveness::xlsx),
        ),
        r(
            Method::GET,
            "/bao-cao/hieu-qua.csv",
            signed_in,
            get(effectiveness::csv),
        ),
        // Sponsorships (R2–R8)
        r(
            Method::GET,
            "/nhan-giup",
            signed_in,
            get(sponsorships::list),
        ),
        r(
            Method::POST,
            "/nhan-giup",
            Access::Roles(AGENCY),
            post(sponsorships::pledge),
        ),
        r(
            Method::GET,
            "/nhan-giup/dang-ky",
            Access::Roles(AGENCY),
            get(sponsorships::pledge_form),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su",
            Access::Roles(DISTRICT),
            get(history::upload_form),
        ),
        r(
            Method::POST,
            "/nhan-giup/nhap-lich-su",
            Access::Roles(DISTRICT),
            post(history::upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::UPLOAD_LIMIT)),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su/mau.csv",
            Access::Roles(DISTRICT),
            get(history::template_csv),
        ),
        r(
            Method::GET,
            "/nhan-giup/nhap-lich-su/{id}",
            Access::Roles(DISTRICT),
            get(history::show_preview),
        ),
        r(
            Method::POST,
            "/nhan-giup/nhap-lich-su/{id}",
            Access::Roles(DISTRICT),
            post(history::confirm),
        ),
        // The yearly progress sheet (issue #26): one, or an agency's batch of a year. Visibility is
        // the sponsorship's (its agencies, its commune, the district).
        r(
            Method::GET,
            "/nhan-giup/phieu-tien-do",
            signed_in,
            get(sponsorships::progress_sheets),
        ),
        r(
            Method::GET,
            "/nhan-giup/{id}/phieu-tien-do",
            signed_in,
            get(sponsorships::progress_sheet),
        ),
        r(
            Method::GET,
            "/nhan-giup/{id}",
            signed_in,
            get(sponsorships::show),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/xac-nhan",
            Access::Roles(COMMUNE),
            post(sponsorships::confirm),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/tu-choi",
            Access::Roles(COMMUNE),
            post(sponsorships::reject),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/huy",
            Access::Roles(CANCELLERS),
            post(sponsorships::cancel),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/trao",
            Access::Roles(AGENCY),
            post(sponsorships::deliver)
                .layer(axum::extract::DefaultBodyLimit::max(photos::BODY_LIMIT)),
        ),
        r(
            Method::POST,
            "/nhan-giup/{id}/tham",
            signed_in,
            post(sponsorships::visit)
                .layer(axum::extract::DefaultBodyLimit::max(photos::BODY_LIMIT)),
        ),
        r(Method::GET, "/anh/{id}", signed_in, get(photos::full)),
        r(Method::GET, "/anh/{id}/nho", signed_in, get(photos::thumb)),
        r(
            Method::POST,
            "/anh/{id}/xoa",
            signed_in,
            post(photos::delete),
        ),
        r(
            Method::POST,
            "/ho/{id}/dong-y-anh",
            Access::Roles(REGISTRY),
            post(photos::set_consent),
        ),
        // The deprivation profile from the commune's yearly review (issue #26): the commune
        // official and the district keep it; agency staff only read it.
        r(
            Method::GET,
            "/ho/{id}/ra-soat",
            Access::Roles(REGISTRY),
            get(profiles::form),
        ),
        r(
            Method::POST,
            "/ho/{id}/ra-soat",
            Access::Roles(REGISTRY),
            post(profiles::save),
        ),
        r(
            Method::GET,
            "/ho/ra-soat/nhap",
            Access::Roles(REGISTRY),
            get(profiles::import_form),
        ),
        r(
            Method::POST,
            "/ho/ra-soat/nhap",
            Access::Roles(REGISTRY),
            post(profiles::import_upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::UPLOAD_LIMIT)),
        ),
        r(
            Method::GET,
            "/ho/ra-soat/mau.xlsx",
            Access::Roles(REGISTRY),
            get(profiles::import_template),
        ),
        r(
            Method::GET,
            "/ho/nhap",
            Access::Roles(REGISTRY),
            get(imports::upload_form),
        ),
        r(
            Method::POST,
            "/ho/nhap",
            Access::Roles(REGISTRY),
            post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::UPLOAD_LIMIT)),
        ),
        r(
            Method::GET,
            "/ho/nhap/mau.xlsx",
            Access::Roles(REGISTRY),
            get(imports::template_xlsx),
        ),
        r(
            Method::GET,
            "/ho/nhap/mau.csv",
            Access::Roles(REGISTRY),
            get(imports::template_csv),
        ),
        r(
            Method::GET,
            "/ho/nhap/{id}",
            Access::Roles(REGISTRY),
            get(imports::show_preview),
        ),
        r(
            Method::POST,
            "/ho/nhap/{id}",
            Access::Roles(REGISTRY),
            post(imports::confirm),
        ),
    ]
}

/// The route table without handlers, for tests and documentation.
pub fn route_table() -> Vec<RouteDef> {
    routes().into_iter().map(|(def, _)| def).collect()
}
