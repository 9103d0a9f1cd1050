//! A client's further secrets: Microsoft Graph's `passwordCredentials` (`addPassword`,
//! `removePassword`). The client's first secret stays in `clients.secret_hash`.

use diesel::prelude::*;

use super::schema::client_secrets;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = client_secrets)]
pub struct ClientSecret {
    /// Graph's `keyId` (a GUID).
    pub key_id: String,
    pub client_id: String,
    pub display_name: Option<String>,
    /// The secret's first three characters (Graph's `hint`).
    pub hint: String,
    /// SHA-256 of the secret (256 random bits, as the first secret).
    pub secret_hash: String,
    pub start_at: i64,
    pub end_at: i64,
}

pub fn insert(conn: &mut DbConnection, secret: &ClientSecret) -> DbResult<()> {
    diesel::insert_into(client_secrets::table)
        .values(secret)
        .execute(conn)?;
    Ok(())
}

/// The client's secrets, oldest first.
pub fn list(conn: &mut DbConnection, client_id: &str) -> DbResult<Vec<ClientSecret>> {
    Ok(client_secrets::table
        .filter(client_secrets::client_id.eq(client_id))
        .order((client_secrets::start_at.asc(), client_secrets::key_id.asc()))
        .select(ClientSecret::as_select())
        .load(conn)?)
}

/// The hashes of the client's secrets valid at `now` (started, not yet ended).
pub fn valid_hashes(conn: &mut DbConnection, client_id: &str, now: i64) -> DbResult<Vec<String>> {
    Ok(client_secrets::table
        .filter(client_secrets::client_id.eq(client_id))
        .filter(client_secrets::start_at.le(now))
        .filter(client_secrets::end_at.gt(now))
        .select(client_secrets::secret_hash)
        .load(conn)?)
}

/// Removes one of the client's secrets; whether it was there.
pub fn delete(conn: &mut DbConnection, client_id: &str, key_id: &str) -> DbResult<bool> {
    let n = diesel::delete(
        client_secrets::table
            .filter(client_secrets::client_id.eq(client_id))
            .filter(client_secrets::key_id.eq(key_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}
