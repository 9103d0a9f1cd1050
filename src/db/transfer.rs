//! The rows `export`, `import` and `migrate` move: every column of each table that
//! carries the directory and its configuration, as stored, and the queries that page
//! through a table, find rows by key, insert many and count. One macro writes them for
//! each table so a column added to `schema.rs` and not here fails to compile.

use diesel::migration::MigrationSource;
use diesel::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema::*;
use super::{DbConnection, DbResult, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// Bound parameters per multi-row INSERT (SQLite allows 32766, PostgreSQL 65535).
const PARAMS_PER_INSERT: usize = 30_000;

/// One table's rows, moved as they are stored.
pub trait TransferRow: Sized + Clone + PartialEq + Serialize + DeserializeOwned + Send {
    /// The `"kind"` of the row in an export file.
    const KIND: &'static str;
    /// The primary key, as text (two columns: joined by " / ").
    fn key(&self) -> String;
    /// Up to `limit` rows in key order, after `after`'s key.
    fn page(conn: &mut DbConnection, after: Option<&Self>, limit: i64) -> DbResult<Vec<Self>>;
    /// The stored rows with the keys of these rows.
    fn existing(conn: &mut DbConnection, rows: &[Self]) -> DbResult<Vec<Self>>;
    /// Inserts the rows with multi-row INSERTs.
    fn insert_many(conn: &mut DbConnection, rows: &[Self]) -> Result<usize, diesel::result::Error>;
    fn count(conn: &mut DbConnection) -> DbResult<i64>;
    /// Resets the columns that are not moved (lockout counters): an export writes
    /// them reset, and an import compares rows without them.
    fn clear_transient(&mut self);
}

macro_rules! insert_chunks {
    ($table:ident, $conn:expr, $rows:expr, $fields:expr) => {{
        let chunk = (PARAMS_PER_INSERT / $fields).max(1);
        let mut n = 0;
        match $conn {
            DbConnection::Sqlite(c) => {
                for part in $rows.chunks(chunk) {
                    n += diesel::insert_into($table::table).values(part).execute(c)?;
                }
            }
            DbConnection::Postgresql(c) => {
                for part in $rows.chunks(chunk) {
                    n += diesel::insert_into($table::table).values(part).execute(c)?;
                }
            }
        }
        Ok(n)
    }};
}

/// A table with a one-column text key.
macro_rules! single_key_rows {
    ($row:ident, $table:ident, $kind:literal, $key:ident, { $($field:ident : $ty:ty),+ $(,)? } $(, reset { $($t:ident = $v:expr),+ })?) => {
        #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
        #[diesel(table_name = $table)]
        #[diesel(treat_none_as_default_value = false)]
        #[serde(deny_unknown_fields)]
        pub struct $row { $(pub $field: $ty),+ }

        impl TransferRow for $row {
            const KIND: &'static str = $kind;

            fn key(&self) -> String {
                self.$key.clone()
            }

            fn page(conn: &mut DbConnection, after: Option<&Self>, limit: i64) -> DbResult<Vec<Self>> {
                let mut query = $table::table
                    .order($table::$key)
                    .select($row::as_select())
                    .limit(limit)
                    .into_boxed();
                if let Some(after) = after {
                    query = query.filter($table::$key.gt(after.$key.clone()));
                }
                Ok(query.load(conn)?)
            }

            fn existing(conn: &mut DbConnection, rows: &[Self]) -> DbResult<Vec<Self>> {
                let mut found = Vec::new();
                for part in rows.chunks(500) {
                    let keys: Vec<&String> = part.iter().map(|r| &r.$key).collect();
                    found.extend(
                        $table::table
                            .filter($table::$key.eq_any(keys))
                            .select($row::as_select())
                            .load(conn)?,
                    );
                }
                Ok(found)
            }

            fn insert_many(conn: &mut DbConnection, rows: &[Self]) -> Result<usize, diesel::result::Error> {
                insert_chunks!($table, conn, rows, [$(stringify!($field)),+].len())
            }

            fn count(conn: &mut DbConnection) -> DbResult<i64> {
                Ok($table::table.count().get_result(conn)?)
            }

            fn clear_transient(&mut self) {
                $($(self.$t = $v;)+)?
            }
        }
    };
}

/// A table whose key is two text columns.
macro_rules! pair_key_rows {
    ($row:ident, $table:ident, $kind:literal, ($a:ident, $b:ident), { $($field:ident : $ty:ty),+ $(,)? } $(, reset { $($t:ident = $v:expr),+ })?) => {
        #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize, serde::Deserialize)]
        #[diesel(table_name = $table)]
        #[diesel(treat_none_as_default_value = false)]
        #[serde(deny_unknown_fields)]
        pub struct $row { $(pub $field: $ty),+ }

        impl TransferRow for $row {
            const KIND: &'static str = $kind;

            fn key(&self) -> String {
                format!("{} / {}", self.$a, self.$b)
            }

            fn page(conn: &mut DbConnection, after: Option<&Self>, limit: i64) -> DbResult<Vec<Self>> {
                let mut query = $table::table
                    .order(($table::$a, $table::$b))
                    .select($row::as_select())
                    .limit(limit)
                    .into_boxed();
                if let Some(after) = after {
                    query = query.filter(
                        $table::$a.gt(after.$a.clone()).or($table::$a
                            .eq(after.$a.clone())
                            .and($table::$b.gt(after.$b.clone()))),
                    );
                }
                Ok(query.load(conn)?)
            }

            fn existing(conn: &mut DbConnection, rows: &[Self]) -> DbResult<Vec<Self>> {
                let wanted: std::collections::HashSet<String> = rows.iter().map(|r| r.key()).collect();
                let mut found = Vec::new();
                for part in rows.chunks(500) {
                    let a: std::collections::BTreeSet<&String> = part.iter().map(|r| &r.$a).collect();
                    let b: std::collections::BTreeSet<&String> = part.iter().map(|r| &r.$b).collect();
                    let loaded: Vec<Self> = $table::table
                        .filter($table::$a.eq_any(a.into_iter().collect::<Vec<_>>()))
                        .filter($table::$b.eq_any(b.into_iter().collect::<Vec<_>>()))
                        .select($row::as_select())
                        .load(conn)?;
                    found.extend(loaded.into_iter().filter(|r| wanted.contains(&r.key())));
                }
                Ok(found)
            }

            fn insert_many(conn: &mut DbConnection, rows: &[Self]) -> Result<usize, diesel::result::Error> {
                insert_chunks!($table, conn, rows, [$(stringify!($field)),+].len())
            }

            fn count(conn: &mut DbConnection) -> DbResult<i64> {
                Ok($table::table.count().get_result(conn)?)
            }

            fn clear_transient(&mut self) {
                $($(self.$t = $v;)+)?
            }
        }
    };
}

single_key_rows!(TenantRow, tenants, "tenant", id, {
    id: String,
    name: String,
    display_name: String,
    default_client_id: Option<String>,
    created_at: i64,
    policies: String,
    b2c_issuer: String,
});

single_key_rows!(UserFlowRow, tenant_user_flows, "user_flow", tenant_id, {
    tenant_id: String,
    sign_up: i32,
    forgot_password: i32,
    logout_requires_id_token: i32,
});

single_key_rows!(UserRow, users, "user", id, {
    id: String,
    tenant_id: String,
    email: Option<String>,
    email_normalized: Option<String>,
    display_name: String,
    given_name: Option<String>,
    family_name: Option<String>,
    password_hash: Option<String>,
    roles: String,
    disabled: i32,
    created_at: i64,
    updated_at: i64,
    username: Option<String>,
    username_normalized: Option<String>,
    failed_sign_ins: i32,
    locked_until: Option<i64>,
    lockouts: i32,
    force_change_password: i32,
}, reset { failed_sign_ins = 0, locked_until = None, lockouts = 0 });

single_key_rows!(GroupRow, groups, "group", id, {
    id: String,
    tenant_id: String,
    name: String,
    created_at: i64,
    description: Option<String>,
    mail_nickname: Option<String>,
    mail_enabled: bool,
    security_enabled: bool,
});

pair_key_rows!(MembershipRow, group_members, "membership", (group_id, user_id), {
    group_id: String,
    user_id: String,
});

single_key_rows!(ClientRow, clients, "client", client_id, {
    client_id: String,
    tenant_id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: String,
    grant_types: String,
    app_roles: String,
    created_at: i64,
    optional_claims: String,
    claims_mapping: String,
    spa_redirect_uris: String,
    public_client_redirect_uris: String,
    app_role_definitions: String,
});

single_key_rows!(ClientSecretRow, client_secrets, "client_secret", key_id, {
    key_id: String,
    client_id: String,
    display_name: Option<String>,
    hint: String,
    secret_hash: String,
    start_at: i64,
    end_at: i64,
});

single_key_rows!(AppRoleAssignmentRow, app_role_assignments, "app_role_assignment", id, {
    id: String,
    user_id: String,
    client_id: String,
    role_value: String,
    created_at: i64,
});

pair_key_rows!(DirectoryRoleRow, directory_role_members, "directory_role_member", (user_id, role_template_id), {
    user_id: String,
    role_template_id: String,
    assigned_at: i64,
});

pair_key_rows!(FederationLinkRow, federation_links, "federation_link", (provider, subject), {
    provider: String,
    subject: String,
    issuer: String,
    user_id: String,
    created_at: i64,
});

pair_key_rows!(GraphPermissionRow, graph_permissions, "graph_permission", (client_id, permission), {
    client_id: String,
    permission: String,
    granted_at: i64,
});

single_key_rows!(ApiKeyRow, api_keys, "api_key", id, {
    id: String,
    tenant_id: String,
    owner_kind: String,
    owner_id: String,
    name: String,
    key_hash: String,
    roles: String,
    scopes: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
});

single_key_rows!(SigningKeyRow, signing_keys, "signing_key", kid, {
    kid: String,
    private_key_pem: Option<String>,
    created_at: i64,
    retired_at: Option<i64>,
    activates_at: Option<i64>,
});

single_key_rows!(RefreshTokenRow, refresh_tokens, "refresh_token", id, {
    id: String,
    token_hash: String,
    family_id: String,
    tenant_id: String,
    user_id: String,
    client_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    policy: Option<String>,
    auth_time: Option<i64>,
    access_token_jti: Option<String>,
    access_token_expires_at: Option<i64>,
    parent_id: Option<String>,
    family_expires_at: Option<i64>,
});

single_key_rows!(RevokedAccessTokenRow, revoked_access_tokens, "revoked_access_token", jti, {
    jti: String,
    expires_at: i64,
    revoked_at: i64,
});

#[derive(QueryableByName)]
struct AppliedMigration {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Where a database's schema stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    /// The last migration applied (its directory name when this build knows it).
    pub last_applied: Option<String>,
    /// The last migration this build has.
    pub last_known: String,
    /// Applied and known are the same list.
    pub current: bool,
}

/// Reads the applied migrations without writing (diesel's own harness would create
/// its table in a database that has none).
pub fn schema_state(conn: &mut DbConnection) -> DbResult<SchemaState> {
    let known: Vec<(String, String)> = match conn {
        DbConnection::Sqlite(_) => names(MigrationSource::<diesel::sqlite::Sqlite>::migrations(
            &SQLITE_MIGRATIONS,
        )),
        DbConnection::Postgresql(_) => names(MigrationSource::<diesel::pg::Pg>::migrations(
            &POSTGRES_MIGRATIONS,
        )),
    };
    let applied: Vec<String> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<AppliedMigration>(conn)
            .map(|rows| rows.into_iter().map(|r| r.version).collect())
            .unwrap_or_default();
    let known_versions: Vec<&String> = known.iter().map(|(v, _)| v).collect();
    let current = applied.iter().collect::<Vec<_>>() == known_versions;
    let last_applied = applied.last().map(|v| {
        known
            .iter()
            .find(|(k, _)| k == v)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| v.clone())
    });
    let last_known = known.last().map(|(_, n)| n.clone()).unwrap_or_default();
    Ok(SchemaState {
        last_applied,
        last_known,
        current,
    })
}

fn names<DB: diesel::backend::Backend>(
    migrations: diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>>,
) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = migrations
        .unwrap_or_default()
        .iter()
        .map(|m| (m.name().version().to_string(), m.name().to_string()))
        .collect();
    list.sort();
    list
}

/// Makes the open transaction read-only: SQLite refuses every write on this
/// connection from now on; PostgreSQL reads one snapshot (repeatable read). Call first
/// in the transaction.
pub fn read_only_snapshot(conn: &mut DbConnection) -> DbResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA query_only = ON")?,
        DbConnection::Postgresql(c) => {
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?
        }
    }
    Ok(())
}

/// Readies an import's connection: on PostgreSQL each look-up by key is planned with
/// its values (a generic plan of `= ANY($1)` can scan; see `import_keys`).
pub fn prepare_import(conn: &mut DbConnection) -> DbResult<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Postgresql(c) = conn {
        c.batch_execute("SET plan_cache_mode = force_custom_plan")?;
    }
    Ok(())
}
