//! What every page's layout needs: the signed-in user (for the menu) and a flash message.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::domain::roles::{Actor, Role};

const FLASH_KEY: &str = "flash";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `ok` or `error`, used as a CSS class.
    pub kind: String,
    pub text: String,
}

/// Store a message for the next page the user sees (after a 303 redirect).
pub async fn flash(session: &Session, kind: &str, text: impl Into<String>) {
    let f = Flash {
        kind: kind.to_string(),
        text: text.into(),
    };
    if let Err(e) = session.insert(FLASH_KEY, f).await {
        tracing::warn!(error = %e, "could not store flash message");
    }
}

/// A menu entry of the layout.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

/// The layout's context, extracted in every page handler.
pub struct Ctx {
    pub actor: Option<Actor>,
    pub flash: Option<Flash>,
    /// The current campaign's organiser ("Huyện Bình Gia"), or empty.
    pub area: String,
}

impl Ctx {
    /// The area inside a sentence: "huyện Bình Gia", "tỉnh Lạng Sơn".
    pub fn area_in_sentence(&self) -> String {
        let mut c = self.area.chars();
        match c.next() {
            Some(first) => first.to_lowercase().chain(c).collect(),
            None => String::new(),
        }
    }

    pub fn user_name(&self) -> &str {
        self.actor
            .as_ref()
            .map(|a| a.full_name.as_str())
            .unwrap_or("")
    }

    pub fn role_label(&self) -> &str {
        self.actor.as_ref().map(|a| a.role.label()).unwrap_or("")
    }

    /// The menu for this user's role (the server still checks every route).
    pub fn nav(&self) -> Vec<NavItem> {
        let mut items = vec![NavItem {
            href: "/",
            label: "Trang chủ",
        }];
        let Some(actor) = &self.actor else {
            return items;
        };
        items.push(NavItem {
            href: "/bang-dieu-khien",
            label: "Bảng điều khiển",
        });
        items.push(NavItem {
            href: "/nhan-giup",
            label: "Nhận giúp đỡ",
        });
        items.push(NavItem {
            href: "/ho",
            label: "Hộ nghèo",
        });
        items.push(NavItem {
            href: "/bao-cao",
            label: "Báo cáo",
        });
        items.push(NavItem {
            href: "/trung-ho",
            label: "Kiểm tra trùng hộ",
        });
        if actor.is_district() {
            items.push(NavItem {
                href: "/don-vi",
                label: "Cơ quan, đơn vị",
            });
            items.push(NavItem {
                href: "/dot-van-dong",
                label: "Đợt vận động",
            });
        }
        if actor.role != Role::Agency {
            items.push(NavItem {
                href: "/trung-ho/ra-soat",
                label: "Rà soát trùng",
            });
            items.push(NavItem {
                href: "/xa",
                label: "Xã, thôn",
            });
        }
        if actor.is_district() {
            items.push(NavItem {
                href: "/nhat-ky",
                label: "Nhật ký",
            });
        }
        if actor.role == Role::Admin {
            items.push(NavItem {
                href: "/quan-tri/nguoi-dung",
                label: "Người dùng",
            });
        }
        items
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let actor = parts.extensions.get::<Actor>().cloned();
        let flash = match parts.extensions.get::<Session>() {
            // `remove` marks the session changed even when there is nothing to remove (and the
            // session is then written back): read first, remove only a message that is there.
            Some(session) => match session.get::<Flash>(FLASH_KEY).await.ok().flatten() {
                Some(f) => {
                    let _ = session.remove_value(FLASH_KEY).await;
                    Some(f)
                }
                None => None,
            },
            None => None,
        };
        let area = parts
            .extensions
            .get::<super::Area>()
            .map(|a| a.0.clone())
            .unwrap_or_default();
        Ok(Ctx { actor, flash, area })
    }
}

/// The signed-in user; routes that use it are `SignedIn` or role-restricted in the route table,
/// so a missing user here is a programming error answered with 403, never a panic.
pub struct CurrentUser(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = super::error::AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .map(CurrentUser)
            .ok_or(super::error::AppError::Forbidden)
    }
}

/// Appended to our own asset URLs so a new release is fetched despite long cache lifetimes.
pub const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");
