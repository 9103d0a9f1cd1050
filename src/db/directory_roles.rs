//! Entra's built-in directory roles held by users, by role template id: what lets a
//! user's delegated Graph token write the directory, and their tokens' `wids`.

use diesel::prelude::*;

use super::schema::{directory_role_members, users};
use super::users::User;
use super::{DbConnection, DbResult};

/// Assigns the roles (one already held is not an error); returns those that were new.
pub fn assign(
    conn: &mut DbConnection,
    user_id: &str,
    template_ids: &[&str],
    now: i64,
) -> DbResult<Vec<String>> {
    crate::db::write_tx(conn, |conn| {
        let held = of_user(conn, user_id)?;
        let mut added: Vec<String> = Vec::new();
        for id in template_ids {
            if held.iter().chain(added.iter()).any(|h| h == id) {
                continue;
            }
            diesel::insert_into(directory_role_members::table)
                .values((
                    directory_role_members::user_id.eq(user_id),
                    directory_role_members::role_template_id.eq(*id),
                    directory_role_members::assigned_at.eq(now),
                ))
                .execute(conn)?;
            added.push((*id).to_owned());
        }
        Ok(added)
    })
}

/// Withdraws the roles; returns how many were held.
pub fn remove(conn: &mut DbConnection, user_id: &str, template_ids: &[&str]) -> DbResult<usize> {
    Ok(diesel::delete(
        directory_role_members::table
            .filter(directory_role_members::user_id.eq(user_id))
            .filter(directory_role_members::role_template_id.eq_any(template_ids)),
    )
    .execute(conn)?)
}

/// The role template ids the user holds, in id order.
pub fn of_user(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<String>> {
    Ok(directory_role_members::table
        .filter(directory_role_members::user_id.eq(user_id))
        .order(directory_role_members::role_template_id.asc())
        .select(directory_role_members::role_template_id)
        .load(conn)?)
}

/// The role template ids held by at least one user of the tenant.
pub fn held_in_tenant(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Vec<String>> {
    Ok(directory_role_members::table
        .inner_join(users::table)
        .filter(users::tenant_id.eq(tenant_id))
        .select(directory_role_members::role_template_id)
        .distinct()
        .order(directory_role_members::role_template_id.asc())
        .load(conn)?)
}

/// A page of the tenant's users holding the role, in id order after `after_id`.
pub fn holders(
    conn: &mut DbConnection,
    tenant_id: &str,
    template_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<User>> {
    let mut query = directory_role_members::table
        .inner_join(users::table)
        .filter(users::tenant_id.eq(tenant_id.to_owned()))
        .filter(directory_role_members::role_template_id.eq(template_id.to_owned()))
        .select(User::as_select())
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    Ok(query.order(users::id.asc()).limit(limit).load(conn)?)
}
