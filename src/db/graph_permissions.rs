//! Microsoft Graph application permissions granted to clients: the `roles` of their
//! app-only tokens for Graph.

use diesel::prelude::*;

use super::schema::graph_permissions;
use super::{DbConnection, DbResult};

/// Grants the permissions (granting one already held is not an error); returns those
/// that were new.
pub fn grant(
    conn: &mut DbConnection,
    client_id: &str,
    permissions: &[String],
    now: i64,
) -> DbResult<Vec<String>> {
    crate::db::write_tx(conn, |conn| {
        let held = list(conn, client_id)?;
        let mut added = Vec::new();
        for p in permissions {
            if held.contains(p) || added.contains(p) {
                continue;
            }
            diesel::insert_into(graph_permissions::table)
                .values((
                    graph_permissions::client_id.eq(client_id),
                    graph_permissions::permission.eq(p),
                    graph_permissions::granted_at.eq(now),
                ))
                .execute(conn)?;
            added.push(p.clone());
        }
        Ok(added)
    })
}

/// Withdraws the permissions; returns how many were held.
pub fn revoke(conn: &mut DbConnection, client_id: &str, permissions: &[String]) -> DbResult<usize> {
    Ok(diesel::delete(
        graph_permissions::table
            .filter(graph_permissions::client_id.eq(client_id))
            .filter(graph_permissions::permission.eq_any(permissions)),
    )
    .execute(conn)?)
}

/// The client's permissions, by name.
pub fn list(conn: &mut DbConnection, client_id: &str) -> DbResult<Vec<String>> {
    Ok(graph_permissions::table
        .filter(graph_permissions::client_id.eq(client_id))
        .order(graph_permissions::permission.asc())
        .select(graph_permissions::permission)
        .load(conn)?)
}
