//! What a token says about a user beside their row — groups, Entra directory roles and
//! app roles assigned over Graph — read with one statement (a `UNION ALL` of the three
//! look-ups): on PostgreSQL each statement is a round trip, and every sign-in, code
//! redemption and refresh-token rotation reads these.

use diesel::IntoSql;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{app_role_assignments, clients, directory_role_members, group_members, groups};
use super::{DbConnection, DbResult};

/// A user's memberships, each list in the order tokens list it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Memberships {
    /// Group ids, by group name.
    pub groups: Vec<String>,
    /// Directory role template ids, in order.
    pub directory_roles: Vec<String>,
    /// (resource client id, role value) of assigned app roles the resource still
    /// defines, by client id then value.
    pub assigned_roles: Vec<(String, String)>,
}

const GROUP: &str = "g";
const DIRECTORY_ROLE: &str = "d";
const APP_ROLE: &str = "a";

/// The user's groups, directory roles and assigned app roles.
pub fn memberships(conn: &mut DbConnection, user_id: &str) -> DbResult<Memberships> {
    // Every branch selects (kind, a, b, c) as text; ordering is done here. diesel's
    // UNION is per backend, not for the multi-backend connection: built in each arm.
    // The constants are bound parameters, not SQL literals, so that diesel prepares
    // the statement once per connection (a literal makes it unprepared every time).
    macro_rules! query {
        () => {
            group_members::table
                .inner_join(groups::table)
                .filter(group_members::user_id.eq(user_id))
                .select((
                    GROUP.into_sql::<Text>(),
                    groups::id,
                    groups::name,
                    "".into_sql::<Text>(),
                ))
                .union_all(
                    directory_role_members::table
                        .filter(directory_role_members::user_id.eq(user_id))
                        .select((
                            DIRECTORY_ROLE.into_sql::<Text>(),
                            directory_role_members::role_template_id,
                            "".into_sql::<Text>(),
                            "".into_sql::<Text>(),
                        )),
                )
                .union_all(
                    app_role_assignments::table
                        .inner_join(
                            clients::table
                                .on(clients::client_id.eq(app_role_assignments::client_id)),
                        )
                        .filter(app_role_assignments::user_id.eq(user_id))
                        .filter(app_role_assignments::role_value.ne(""))
                        .select((
                            APP_ROLE.into_sql::<Text>(),
                            app_role_assignments::client_id,
                            app_role_assignments::role_value,
                            clients::app_roles,
                        )),
                )
        };
    }
    let rows: Vec<(String, String, String, String)> = match conn {
        DbConnection::Sqlite(c) => query!().load(c)?,
        DbConnection::Postgresql(c) => query!().load(c)?,
    };
    Ok(collect(rows))
}

fn collect(rows: Vec<(String, String, String, String)>) -> Memberships {
    let mut groups = Vec::new();
    let mut out = Memberships::default();
    for (kind, a, b, c) in rows {
        match kind.as_str() {
            GROUP => groups.push((b, a)),
            DIRECTORY_ROLE => out.directory_roles.push(a),
            // An assignment counts while the resource still defines the role.
            APP_ROLE if super::decode_list(&c).is_ok_and(|defined| defined.contains(&b)) => {
                out.assigned_roles.push((a, b))
            }
            _ => {}
        }
    }
    groups.sort();
    out.groups = groups.into_iter().map(|(_, id)| id).collect();
    out.directory_roles.sort();
    out.assigned_roles.sort();
    out
}
