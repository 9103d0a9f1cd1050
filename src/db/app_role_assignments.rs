//! Users' assignments of app roles of the tenant's clients: Microsoft Graph's
//! `appRoleAssignments`. An empty `role_value` is Graph's default access (no role).

use diesel::prelude::*;

use super::schema::{app_role_assignments, users};
use super::users::User;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_role_assignments)]
pub struct Assignment {
    /// Graph's appRoleAssignment `id`.
    pub id: String,
    pub user_id: String,
    /// The resource: the client whose app role is assigned.
    pub client_id: String,
    /// The app role's value; empty for default access.
    pub role_value: String,
    pub created_at: i64,
}

/// Inserts the assignment unless the user already holds this role of this client;
/// whether it was inserted.
pub fn insert(conn: &mut DbConnection, a: &Assignment) -> DbResult<bool> {
    crate::db::write_tx(conn, |conn| {
        let held: i64 = app_role_assignments::table
            .filter(app_role_assignments::user_id.eq(&a.user_id))
            .filter(app_role_assignments::client_id.eq(&a.client_id))
            .filter(app_role_assignments::role_value.eq(&a.role_value))
            .count()
            .get_result(conn)?;
        if held > 0 {
            return Ok(false);
        }
        diesel::insert_into(app_role_assignments::table)
            .values(a)
            .execute(conn)?;
        Ok(true)
    })
}

/// The user's assignments, oldest first.
pub fn of_user(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<Assignment>> {
    Ok(app_role_assignments::table
        .filter(app_role_assignments::user_id.eq(user_id))
        .order((
            app_role_assignments::created_at.asc(),
            app_role_assignments::id.asc(),
        ))
        .select(Assignment::as_select())
        .load(conn)?)
}

/// The assignments of this client's roles, with their users, oldest first.
pub fn to_client(conn: &mut DbConnection, client_id: &str) -> DbResult<Vec<(Assignment, User)>> {
    Ok(app_role_assignments::table
        .inner_join(users::table)
        .filter(app_role_assignments::client_id.eq(client_id))
        .order((
            app_role_assignments::created_at.asc(),
            app_role_assignments::id.asc(),
        ))
        .select((Assignment::as_select(), User::as_select()))
        .load(conn)?)
}

/// Removes one of the user's assignments; the one removed, if it was there.
pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> DbResult<Option<Assignment>> {
    crate::db::write_tx(conn, |conn| {
        let found = app_role_assignments::table
            .filter(app_role_assignments::user_id.eq(user_id))
            .filter(app_role_assignments::id.eq(id))
            .select(Assignment::as_select())
            .get_result(conn)
            .optional()?;
        if found.is_some() {
            diesel::delete(app_role_assignments::table.find(id)).execute(conn)?;
        }
        Ok(found)
    })
}
