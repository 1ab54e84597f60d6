//! Codes PostgreSQL stores as text, decoded into the domain's enums. `domain` names no sqlx, so
//! the database side of each enum lives here: a row field is declared with the enum and read
//! through these (`#[sqlx(try_from = "DbState")]` in a `FromRow`, `AS "state: DbState"` in a
//! query macro). A code the enum does not know is a decode error naming the code, not a string
//! the pages silently show as "unknown".

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use crate::domain::sponsorship::State;

/// A sponsorship state as the `sponsorships.state` column holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbState(pub State);

impl From<DbState> for State {
    fn from(s: DbState) -> State {
        s.0
    }
}

impl Type<Postgres> for DbState {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for DbState {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let code = <&str as Decode<Postgres>>::decode(value)?;
        State::parse(code)
            .map(DbState)
            .ok_or_else(|| format!("unknown sponsorship state {code:?}").into())
    }
}

impl Encode<'_, Postgres> for DbState {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<Postgres>>::encode(self.0.as_str(), buf)
    }
}
