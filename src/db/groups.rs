use diesel::prelude::*;

use super::schema::{group_members, groups, users};
use super::users::{Cursor, SortOrder, User};
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = groups)]
pub struct Group {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub created_at: i64,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub mail_enabled: bool,
    pub security_enabled: bool,
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
        .get_result(conn)
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

/// The tenant's group with this id.
pub fn find(conn: &mut DbConnection, tenant_id: &str, id: &str) -> DbResult<Option<Group>> {
    Ok(groups::table
        .filter(groups::tenant_id.eq(tenant_id))
        .filter(groups::id.eq(id))
        .select(Group::as_select())
        .get_result(conn)
        .optional()?)
}

/// A condition of Graph's `$filter` on groups (`displayName` only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameCondition {
    Equals(String),
    StartsWith(String),
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A page of the tenant's groups in id order, after `after_id`.
/// Applies the tenant and the `$filter` conditions to a query of the groups table.
macro_rules! with_name_conditions {
    ($query:expr, $tenant_id:expr, $conditions:expr) => {{
        let mut query = $query.filter(groups::tenant_id.eq($tenant_id.to_owned()));
        for condition in $conditions {
            query = match condition {
                NameCondition::Equals(v) => {
                    query.filter(lower(groups::name).eq(v.trim().to_lowercase()))
                }
                NameCondition::StartsWith(v) => {
                    let escaped = v
                        .trim_start()
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    query.filter(lower(groups::name).like(format!("{escaped}%")).escape('\\'))
                }
            };
        }
        query
    }};
}

/// One page of the tenant's groups after `after` (exclusive), in id order or, with
/// `order`, by lower-cased display name then id (as users are paged); each with its
/// sort key.
pub fn page(
    conn: &mut DbConnection,
    tenant_id: &str,
    conditions: &[NameCondition],
    order: Option<SortOrder>,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<(Group, String)>> {
    let key = || lower(groups::name);
    let query = groups::table
        .select((Group::as_select(), key()))
        .into_boxed();
    let mut query = with_name_conditions!(query, tenant_id, conditions);
    match (order, after) {
        (None, Some(after)) => query = query.filter(groups::id.gt(after.id.clone())),
        (Some(SortOrder::Ascending), Some(Cursor { id, key: Some(k) })) => {
            query = query
                .filter(key().ge(k.clone()))
                .filter(key().gt(k.clone()).or(groups::id.gt(id.clone())))
        }
        (Some(SortOrder::Descending), Some(Cursor { id, key: Some(k) })) => {
            query = query
                .filter(key().le(k.clone()))
                .filter(key().lt(k.clone()).or(groups::id.lt(id.clone())))
        }
        _ => {}
    }
    let query = match order {
        None => query.order(groups::id.asc()),
        Some(SortOrder::Ascending) => query.order((key().asc(), groups::id.asc())),
        Some(SortOrder::Descending) => query.order((key().desc(), groups::id.desc())),
    };
    Ok(query.limit(limit).load(conn)?)
}

/// How many of the tenant's groups match (`$count=true`).
pub fn count_matching(
    conn: &mut DbConnection,
    tenant_id: &str,
    conditions: &[NameCondition],
) -> DbResult<i64> {
    let query = with_name_conditions!(groups::table.into_boxed(), tenant_id, conditions);
    Ok(query.count().get_result(conn)?)
}

/// What a Graph `PATCH` changes.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = groups)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub mail_nickname: Option<String>,
    pub mail_enabled: Option<bool>,
    pub security_enabled: Option<bool>,
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &GroupChanges) -> DbResult<()> {
    if changes.name.is_none()
        && changes.description.is_none()
        && changes.mail_nickname.is_none()
        && changes.mail_enabled.is_none()
        && changes.security_enabled.is_none()
    {
        return Ok(());
    }
    diesel::update(groups::table.find(id))
        .set(changes)
        .execute(conn)?;
    Ok(())
}

/// Deletes the group and its memberships; whether it existed.
pub fn delete(conn: &mut DbConnection, id: &str) -> DbResult<bool> {
    diesel::delete(group_members::table.filter(group_members::group_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(groups::table.find(id)).execute(conn)? > 0)
}

/// Adds a membership; false when it already existed.
pub fn add_new_member(conn: &mut DbConnection, group_id: &str, user_id: &str) -> DbResult<bool> {
    let exists = group_members::table
        .find((group_id, user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if !exists {
        add_member(conn, group_id, user_id)?;
    }
    Ok(!exists)
}

/// Removes a membership; false when there was none.
pub fn remove_member(conn: &mut DbConnection, group_id: &str, user_id: &str) -> DbResult<bool> {
    Ok(diesel::delete(group_members::table.find((group_id, user_id))).execute(conn)? > 0)
}

/// A page of the group's members in id order, after `after_id`.
pub fn members(
    conn: &mut DbConnection,
    group_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<User>> {
    let mut query = group_members::table
        .inner_join(users::table)
        .filter(group_members::group_id.eq(group_id.to_owned()))
        .select(User::as_select())
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    Ok(query.order(users::id.asc()).limit(limit).load(conn)?)
}
