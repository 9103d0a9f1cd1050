use diesel::prelude::*;

use super::schema::clients;
use super::{DbConnection, DbError, DbResult, decode_list};
use crate::oauth::claims::policy::{ClaimsMapping, OptionalClaims};
use crate::oauth::grant_type::GrantType;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct Client {
    pub client_id: String,
    pub tenant_id: String,
    pub name: String,
    /// SHA-256 of the first secret; `None` for a public client; empty for a
    /// confidential client without one (created over Graph, or its first secret
    /// removed): its secrets are then only those in `client_secrets`.
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub grant_types: String,
    pub app_roles: String,
    pub created_at: i64,
    /// JSON of [`OptionalClaims`]; `{}` when none are configured.
    pub optional_claims: String,
    /// JSON of [`ClaimsMapping`]; `{}` when none is configured.
    pub claims_mapping: String,
    /// Entra's "spa" platform: JSON array. `redirect_uris` holds the "web" platform.
    pub spa_redirect_uris: String,
    /// Entra's "publicClient" (mobile and desktop) platform: JSON array.
    pub public_client_redirect_uris: String,
    /// Graph's app roles whole (JSON, `graph::app_role_defs`); empty: the roles are
    /// `app_roles`' values with defaults. `app_roles` holds the enabled roles' values.
    pub app_role_definitions: String,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn grant_type_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.grant_types)
    }

    /// Whether the client is registered for this grant. A list that does not decode
    /// allows nothing.
    pub fn allows(&self, grant: GrantType) -> bool {
        match self.grant_type_list() {
            Ok(list) => list.iter().any(|g| g == grant.as_str()),
            Err(e) => {
                tracing::error!(client = %self.client_id, error = %e, "client grant list unreadable");
                false
            }
        }
    }

    pub fn app_role_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.app_roles)
    }

    /// Every registered redirect URI, of any platform (web, spa, publicClient).
    pub fn redirect_uri_list(&self) -> DbResult<Vec<String>> {
        let mut all = decode_list(&self.redirect_uris)?;
        all.extend(self.spa_redirect_uri_list()?);
        all.extend(decode_list(&self.public_client_redirect_uris)?);
        Ok(all)
    }

    /// The redirect URIs of the "spa" platform.
    pub fn spa_redirect_uri_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.spa_redirect_uris)
    }

    /// Whether `origin` (scheme://host[:port]) is the origin of one of the SPA redirect
    /// URIs: the origins whose token requests Entra answers with CORS headers.
    pub fn is_spa_origin(&self, origin: &str) -> bool {
        self.spa_redirect_uri_list()
            .unwrap_or_default()
            .iter()
            .any(|u| origin_of(u).is_some_and(|o| o.eq_ignore_ascii_case(origin)))
    }

    pub fn optional_claims(&self) -> DbResult<OptionalClaims> {
        serde_json::from_str(&self.optional_claims)
            .map_err(|e| DbError::Corrupt(format!("client optional_claims: {e}")))
    }

    pub fn claims_mapping(&self) -> DbResult<ClaimsMapping> {
        serde_json::from_str(&self.claims_mapping)
            .map_err(|e| DbError::Corrupt(format!("client claims_mapping: {e}")))
    }
}

/// The origin (RFC 6454) of an absolute http(s) URI, as a browser sends it in `Origin`:
/// scheme and authority, without a default port, path, query or fragment.
pub fn origin_of(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if authority.is_empty() {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

pub fn insert(conn: &mut DbConnection, client: &Client) -> DbResult<()> {
    diesel::insert_into(clients::table)
        .values(client)
        .execute(conn)
        .map_err(|e| match DbError::from(e) {
            DbError::Conflict(_) => DbError::Conflict(format!("client {}", client.client_id)),
            other => other,
        })?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, client_id: &str) -> DbResult<Option<Client>> {
    Ok(clients::table
        .find(client_id)
        .select(Client::as_select())
        .get_result(conn)
        .optional()?)
}

/// The tenant's clients with these ids (those that still exist).
pub fn find_many(
    conn: &mut DbConnection,
    tenant_id: &str,
    ids: &[String],
) -> DbResult<Vec<Client>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .filter(clients::client_id.eq_any(ids))
        .select(Client::as_select())
        .load(conn)?)
}

pub fn list(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Vec<Client>> {
    Ok(clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .order((clients::created_at.asc(), clients::client_id.asc()))
        .select(Client::as_select())
        .load(conn)?)
}

pub fn ids(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Vec<String>> {
    Ok(clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .select(clients::client_id)
        .load(conn)?)
}

/// Replaces the client's optional claims and claims mapping (JSON text).
pub fn set_claims(
    conn: &mut DbConnection,
    client_id: &str,
    optional_claims: &str,
    claims_mapping: &str,
) -> DbResult<()> {
    let n = diesel::update(clients::table.find(client_id))
        .set((
            clients::optional_claims.eq(optional_claims),
            clients::claims_mapping.eq(claims_mapping),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// What Graph's `PATCH /applications/{id}` changes: the name, redirect URIs and app
/// roles (JSON arrays as stored).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = clients)]
pub struct RegistrationChanges {
    pub name: Option<String>,
    pub redirect_uris: Option<String>,
    pub spa_redirect_uris: Option<String>,
    pub public_client_redirect_uris: Option<String>,
    pub app_roles: Option<String>,
    pub app_role_definitions: Option<String>,
}

pub fn update_registration(
    conn: &mut DbConnection,
    client_id: &str,
    changes: &RegistrationChanges,
) -> DbResult<()> {
    let n = diesel::update(clients::table.find(client_id))
        .set(changes)
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Replaces the first secret's hash (empty: the client keeps no first secret).
pub fn set_secret_hash(conn: &mut DbConnection, client_id: &str, hash: &str) -> DbResult<()> {
    let n = diesel::update(clients::table.find(client_id))
        .set(clients::secret_hash.eq(hash))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub fn delete(conn: &mut DbConnection, client_id: &str) -> DbResult<()> {
    let n = diesel::delete(clients::table.find(client_id)).execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
