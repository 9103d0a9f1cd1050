//! Brokered sign-in's rows: upstream identities linked to local users, and the
//! requests sent to an upstream provider (single use, short-lived).

use diesel::prelude::*;

use super::schema::{federation_links, federation_requests};
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = federation_links)]
pub struct Link {
    pub provider: String,
    /// The upstream `oid`, else `sub`.
    pub subject: String,
    pub issuer: String,
    pub user_id: String,
    pub created_at: i64,
}

/// The local user an upstream identity is linked to.
pub fn linked_user(
    conn: &mut DbConnection,
    provider: &str,
    subject: &str,
) -> DbResult<Option<String>> {
    Ok(federation_links::table
        .filter(federation_links::provider.eq(provider))
        .filter(federation_links::subject.eq(subject))
        .select(federation_links::user_id)
        .get_result(conn)
        .optional()?)
}

/// Whether the local user is linked to some identity at this provider already.
pub fn user_has_link(conn: &mut DbConnection, provider: &str, user_id: &str) -> DbResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        federation_links::table
            .filter(federation_links::provider.eq(provider))
            .filter(federation_links::user_id.eq(user_id)),
    ))
    .get_result(conn)?)
}

/// Forgets a link whose user is gone.
pub fn unlink(conn: &mut DbConnection, provider: &str, subject: &str) -> DbResult<()> {
    diesel::delete(
        federation_links::table
            .filter(federation_links::provider.eq(provider))
            .filter(federation_links::subject.eq(subject)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn insert_link(conn: &mut DbConnection, link: &Link) -> DbResult<()> {
    diesel::insert_into(federation_links::table)
        .values(link)
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = federation_requests)]
pub struct PendingRequest {
    pub state_hash: String,
    pub provider: String,
    pub tenant_id: String,
    pub browser_hash: String,
    /// The original authorization request's parameters, JSON.
    pub params: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Stores a pending request, and drops those expired for an hour.
pub fn insert_request(conn: &mut DbConnection, row: &PendingRequest) -> DbResult<()> {
    diesel::delete(
        federation_requests::table
            .filter(federation_requests::expires_at.lt(row.created_at - 3600)),
    )
    .execute(conn)?;
    diesel::insert_into(federation_requests::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Why a pending request cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Unknown,
    Expired,
    Used,
    /// Not this browser's: left untouched for the browser that started it.
    OtherBrowser,
}

/// Takes the pending request with this state hash, once, if `ours` accepts it: later
/// calls find it used.
pub fn take_request(
    conn: &mut DbConnection,
    state_hash: &str,
    now: i64,
    ours: impl FnOnce(&PendingRequest) -> bool,
) -> DbResult<Result<PendingRequest, Taken>> {
    let Some(row) = federation_requests::table
        .find(state_hash)
        .select(PendingRequest::as_select())
        .get_result(conn)
        .optional()?
    else {
        return Ok(Err(Taken::Unknown));
    };
    if row.used_at.is_some() {
        return Ok(Err(Taken::Used));
    }
    if row.expires_at <= now {
        return Ok(Err(Taken::Expired));
    }
    if !ours(&row) {
        return Ok(Err(Taken::OtherBrowser));
    }
    let n = diesel::update(
        federation_requests::table
            .find(state_hash)
            .filter(federation_requests::used_at.is_null()),
    )
    .set(federation_requests::used_at.eq(now))
    .execute(conn)?;
    Ok(if n == 1 { Ok(row) } else { Err(Taken::Used) })
}
