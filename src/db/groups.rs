use diesel::prelude::*;

use super::schema::{group_members, groups};
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub created_at: i64,
}

pub fn find_by_name(
    conn: &mut DbConnection,
    tenant_id: &str,
    name: &str,
) -> DbResult<Option<Group>> {
    Ok(groups::table
        .filter(groups::tenant_id.eq(tenant_id))
        .filter(groups::name.eq(name))
        .select(Group::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, group: &Group) -> DbResult<()> {
    diesel::insert_into(groups::table)
        .values(group)
        .execute(conn)?;
    Ok(())
}

/// Adds a membership; adding one that exists is not an error.
pub fn add_member(conn: &mut DbConnection, group_id: &str, user_id: &str) -> DbResult<()> {
    let exists = group_members::table
        .find((group_id, user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(group_id),
                group_members::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The tenant's groups, by name.
pub fn list(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Vec<Group>> {
    Ok(groups::table
        .filter(groups::tenant_id.eq(tenant_id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?)
}

/// The groups the user belongs to, by name.
pub fn of_member(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<Group>> {
    Ok(group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name.asc())
        .select(Group::as_select())
        .load(conn)?)
}
