use diesel::prelude::*;

use super::schema::{group_members, groups, users};
use super::status_changes::{self, StatusKind};
use super::{DbConnection, DbError, DbResult, decode_list};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
// `None` is NULL (no column here has another default): diesel then writes a batch as
// one multi-row INSERT on SQLite too, not one statement a row.
#[diesel(treat_none_as_default_value = false)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: Option<String>,
    pub email_normalized: Option<String>,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub password_hash: Option<String>,
    pub roles: String,
    pub disabled: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// A sign-in name that is not an email address (Entra's `userPrincipalName`,
    /// B2C's `userName` identity, or a plain `admin`).
    pub username: Option<String>,
    pub username_normalized: Option<String>,
    /// Graph's `forceChangePasswordNextSignIn`: a new password is asked for at the
    /// next sign-in.
    pub force_change_password: i32,
}

/// The columns of a user that Graph's lists show (not the password hash, roles or
/// normalized names): what a page of 100 users reads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserSummary {
    pub id: String,
    pub email: Option<String>,
    pub username: Option<String>,
    pub display_name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub disabled: i32,
    pub created_at: i64,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }

    pub fn must_change_password(&self) -> bool {
        self.force_change_password != 0
    }

    pub fn role_list(&self) -> DbResult<Vec<String>> {
        decode_list(&self.roles)
    }

    /// The name the user signs in with: the user name, else the email address.
    pub fn sign_in_name(&self) -> &str {
        self.username
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or_default()
    }
}

/// Emails compare case-insensitively within a tenant.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// User names compare case-insensitively within a tenant, as Entra's UPNs do.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub fn insert(conn: &mut DbConnection, user: &User) -> DbResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map_err(|e| match DbError::from(e) {
            DbError::Conflict(_) => DbError::Conflict(format!("user {}", user.sign_in_name())),
            other => other,
        })?;
    Ok(())
}

/// Inserts many users in one transaction with multi-row INSERTs, for bulk imports.
/// (Multi-row inserts are not available through the multi-backend connection, so
/// each backend is addressed directly.)
pub fn insert_many(conn: &mut DbConnection, batch: &[User]) -> DbResult<usize> {
    macro_rules! insert_chunks {
        ($conn:expr, $chunk:expr) => {
            $conn.transaction(|conn| {
                let mut n = 0;
                for part in batch.chunks($chunk) {
                    n += diesel::insert_into(users::table)
                        .values(part)
                        .execute(conn)?;
                }
                Ok::<_, diesel::result::Error>(n)
            })?
        };
    }
    // SQLite allows 32766 bound parameters per statement, PostgreSQL 65535; 14 per row.
    let n = match conn {
        DbConnection::Sqlite(c) => insert_chunks!(c, 2000),
        DbConnection::Postgresql(c) => insert_chunks!(c, 4000),
    };
    Ok(n)
}

/// The users with these ids (any tenant), and those of the tenant with these
/// normalized sign-in names (emails and user names): what an import matches its rows
/// against. Asked in chunks of 500.
pub fn matching(
    conn: &mut DbConnection,
    tenant_id: &str,
    ids: &[String],
    names: &[String],
) -> DbResult<Vec<User>> {
    let mut found = Vec::new();
    for part in ids.chunks(500) {
        found.extend(
            users::table
                .filter(users::id.eq_any(part))
                .select(User::as_select())
                .load(conn)?,
        );
    }
    // One query per unique index: with `email IN (…) OR username IN (…)` SQLite
    // read the whole tenant through `users_tenant_id` (a scan per chunk, so an import
    // slowed down as the table grew).
    for part in names.chunks(500) {
        found.extend(
            users::table
                .filter(users::tenant_id.eq(tenant_id))
                .filter(users::email_normalized.eq_any(part))
                .select(User::as_select())
                .load(conn)?,
        );
        found.extend(
            users::table
                .filter(users::tenant_id.eq(tenant_id))
                .filter(users::username_normalized.eq_any(part))
                .select(User::as_select())
                .load(conn)?,
        );
    }
    Ok(found)
}

pub fn find_by_email(
    conn: &mut DbConnection,
    tenant_id: &str,
    email: &str,
) -> DbResult<Option<User>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::email_normalized.eq(normalize_email(email)))
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

/// The user who signs in with this name: their user name or their email address.
/// A user name is preferred when one user's name is another's address.
pub fn find_by_sign_in_name(
    conn: &mut DbConnection,
    tenant_id: &str,
    name: &str,
) -> DbResult<Option<User>> {
    let by_name = users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::username_normalized.eq(normalize_username(name)))
        .select(User::as_select())
        .get_result(conn)
        .optional()?;
    match by_name {
        Some(user) => Ok(Some(user)),
        None => find_by_email(conn, tenant_id, name),
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .get_result(conn)
        .optional()?)
}

/// The tenant's users with these ids (those that still exist).
pub fn find_many(conn: &mut DbConnection, tenant_id: &str, ids: &[String]) -> DbResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

/// The ids of the users, in any tenant, with this id, user name or email address.
pub fn ids_named(conn: &mut DbConnection, name: &str) -> DbResult<Vec<String>> {
    Ok(users::table
        .filter(
            users::id
                .eq(name)
                .or(users::email_normalized.eq(normalize_email(name)))
                .or(users::username_normalized.eq(normalize_username(name))),
        )
        .select(users::id)
        .load(conn)?)
}

pub fn list(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Vec<User>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant_id))
        .order((
            users::email_normalized.asc(),
            users::username_normalized.asc(),
        ))
        .select(User::as_select())
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// A change of password: a new hash (`None` keeps the one there), and whether the
/// next sign-in must choose another.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct PasswordChange<'a> {
    password_hash: Option<&'a str>,
    force_change_password: i32,
    updated_at: i64,
}

fn change_password(conn: &mut DbConnection, id: &str, change: &PasswordChange) -> DbResult<()> {
    let n = diesel::update(users::table.find(id))
        .set(change)
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Demands (or stops demanding) a new password at the user's next sign-in.
pub fn set_force_change(
    conn: &mut DbConnection,
    id: &str,
    force_change: bool,
    now: i64,
) -> DbResult<()> {
    let change = PasswordChange {
        password_hash: None,
        force_change_password: i32::from(force_change),
        updated_at: now,
    };
    change_password(conn, id, &change)
}

/// Sets a new password; `force_change` asks for another at the next sign-in (an
/// administrator's temporary password), else any such demand ends.
pub fn set_password_hash(
    conn: &mut DbConnection,
    id: &str,
    hash: &str,
    force_change: bool,
    now: i64,
) -> DbResult<()> {
    let change = PasswordChange {
        password_hash: Some(hash),
        force_change_password: i32::from(force_change),
        updated_at: now,
    };
    change_password(conn, id, &change)
}

/// Replaces a hash only if it is still the one that was verified, so a concurrent
/// password change is never overwritten by an upgrade re-hash.
pub fn upgrade_password_hash(
    conn: &mut DbConnection,
    id: &str,
    old_hash: &str,
    new_hash: &str,
) -> DbResult<bool> {
    let n = diesel::update(
        users::table
            .find(id)
            .filter(users::password_hash.eq(old_hash)),
    )
    .set(users::password_hash.eq(new_hash))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a user's application roles (the `roles` claim).
pub fn set_roles(conn: &mut DbConnection, id: &str, roles: &[String], now: i64) -> DbResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::roles.eq(super::encode_list(roles)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Disables or enables a user, and logs it for every server's token status: a disabled
/// user's access tokens are refused.
pub fn set_disabled(conn: &mut DbConnection, id: &str, disabled: bool, now: i64) -> DbResult<()> {
    crate::db::write_tx(conn, |conn| {
        let n = diesel::update(users::table.find(id))
            .set((
                users::disabled.eq(i32::from(disabled)),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        let kind = if disabled {
            StatusKind::UserDisabled
        } else {
            StatusKind::UserEnabled
        };
        status_changes::record(conn, kind, id, None, now)
    })
}

/// Deletes a user, and logs it for every server's token status: their access tokens
/// are refused.
pub fn delete(conn: &mut DbConnection, id: &str, now: i64) -> DbResult<()> {
    crate::db::write_tx(conn, |conn| {
        let n = diesel::delete(users::table.find(id)).execute(conn)?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
        status_changes::record(conn, StatusKind::UserDeleted, id, None, now)
    })
}

/// Object ids of the groups the user belongs to (the `groups` claim).
pub fn group_ids(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<String>> {
    Ok(group_members::table
        .inner_join(groups::table)
        .filter(group_members::user_id.eq(user_id))
        .order(groups::name.asc())
        .select(groups::id)
        .load(conn)?)
}

/// A property a directory listing filters on (Graph's `$filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    DisplayName,
    /// The email address.
    Mail,
    /// The user name, else the email address (Entra's `userPrincipalName`).
    UserPrincipalName,
    /// The user name (a B2C identity of `signInType` `userName`).
    UserName,
    /// The email address or the user name (a B2C identity of any sign-in type).
    SignInName,
}

/// One condition of a listing; all of a listing's conditions must hold. Values
/// compare without case, as Graph's do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCondition {
    Equals(UserField, String),
    StartsWith(UserField, String),
    /// Matches no user (a B2C identity of another issuer).
    Never,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The order of a listing by display name (then id, which breaks ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// Where a page ended: the last id and, when sorted by display name, its sort key
/// (the display name as the database lower-cases it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub id: String,
    pub key: Option<String>,
}

/// Applies a listing's conditions to a query of the users table.
macro_rules! with_conditions {
    ($query:expr, $tenant_id:expr, $conditions:expr) => {{
        let mut query = $query.filter(users::tenant_id.eq($tenant_id.to_owned()));
        for condition in $conditions {
            query = match condition {
                UserCondition::Equals(field, value) => {
                    let v = value.trim().to_lowercase();
                    match field {
                        UserField::DisplayName => query.filter(lower(users::display_name).eq(v)),
                        UserField::Mail => query.filter(users::email_normalized.eq(v)),
                        UserField::UserPrincipalName => query.filter(
                            users::username_normalized
                                .eq(v.clone())
                                .or(users::username_normalized
                                    .is_null()
                                    .and(users::email_normalized.eq(v))),
                        ),
                        UserField::UserName => query.filter(users::username_normalized.eq(v)),
                        UserField::SignInName => query.filter(
                            users::username_normalized
                                .eq(v.clone())
                                .or(users::email_normalized.eq(v)),
                        ),
                    }
                }
                UserCondition::Never => query.filter(users::id.is_null()),
                UserCondition::StartsWith(field, value) => {
                    let escaped = value
                        .trim_start()
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    let p = format!("{escaped}%");
                    match field {
                        UserField::DisplayName => {
                            query.filter(lower(users::display_name).like(p).escape('\\'))
                        }
                        UserField::Mail => {
                            query.filter(users::email_normalized.like(p).escape('\\'))
                        }
                        UserField::UserPrincipalName => query.filter(
                            users::username_normalized.like(p.clone()).escape('\\').or(
                                users::username_normalized
                                    .is_null()
                                    .and(users::email_normalized.like(p).escape('\\')),
                            ),
                        ),
                        UserField::UserName => {
                            query.filter(users::username_normalized.like(p).escape('\\'))
                        }
                        UserField::SignInName => query.filter(
                            users::username_normalized
                                .like(p.clone())
                                .escape('\\')
                                .or(users::email_normalized.like(p).escape('\\')),
                        ),
                    }
                }
            };
        }
        query
    }};
}

/// How many of the tenant's users meet the conditions (`$count`).
pub fn count_matching(
    conn: &mut DbConnection,
    tenant_id: &str,
    conditions: &[UserCondition],
) -> DbResult<i64> {
    let query = with_conditions!(users::table.into_boxed(), tenant_id, conditions);
    Ok(query.count().get_result(conn)?)
}

/// One page of the tenant's users after `after` (exclusive), in id order or, with
/// `order`, by lower-cased display name then id; each with its sort key. A page never
/// repeats or skips a user that exists throughout the paging (and, sorted, keeps its
/// display name), whatever is added or removed meanwhile; in id order it costs the
/// same at any depth (primary-key seek).
pub fn page(
    conn: &mut DbConnection,
    tenant_id: &str,
    conditions: &[UserCondition],
    order: Option<SortOrder>,
    after: Option<&Cursor>,
    limit: i64,
) -> DbResult<Vec<(UserSummary, String)>> {
    let key = || lower(users::display_name);
    let query = users::table
        .select((UserSummary::as_select(), key()))
        .into_boxed();
    let mut query = with_conditions!(query, tenant_id, conditions);
    match (order, after) {
        (None, Some(after)) => query = query.filter(users::id.gt(after.id.clone())),
        // "After (k, id)" as `key >= k AND (key > k OR id > id)`: the first half is a
        // range the (tenant_id, lower(display_name), id) index seeks to; SQLite does
        // not seek for the equivalent `key > k OR (key = k AND id > id)` with bound
        // parameters, and a page deep in a million users then took 100 ms.
        (Some(SortOrder::Ascending), Some(Cursor { id, key: Some(k) })) => {
            query = query
                .filter(key().ge(k.clone()))
                .filter(key().gt(k.clone()).or(users::id.gt(id.clone())))
        }
        (Some(SortOrder::Descending), Some(Cursor { id, key: Some(k) })) => {
            query = query
                .filter(key().le(k.clone()))
                .filter(key().lt(k.clone()).or(users::id.lt(id.clone())))
        }
        _ => {}
    }
    let query = match order {
        None => query.order(users::id.asc()),
        Some(SortOrder::Ascending) => query.order((key().asc(), users::id.asc())),
        Some(SortOrder::Descending) => query.order((key().desc(), users::id.desc())),
    };
    Ok(query.limit(limit).load(conn)?)
}

/// Changes to a user's names; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct NameChanges {
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

pub fn update_names(
    conn: &mut DbConnection,
    id: &str,
    changes: &NameChanges,
    now: i64,
) -> DbResult<()> {
    let user = find(conn, id)?.ok_or(DbError::NotFound)?;
    let n = diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(changes.display_name.clone().unwrap_or(user.display_name)),
            users::given_name.eq(changes.given_name.clone().or(user.given_name)),
            users::family_name.eq(changes.family_name.clone().or(user.family_name)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
