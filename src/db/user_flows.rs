//! Per-tenant switches of the self-service user flows (B2C "sign up or sign in").

use diesel::prelude::*;

use super::schema::tenant_user_flows;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = tenant_user_flows)]
pub struct TenantUserFlows {
    pub tenant_id: String,
    /// The login page links to a sign-up page.
    pub sign_up: i32,
    /// The login page's "Forgot your password?" returns B2C's AADB2C90118 to the app.
    pub forgot_password: i32,
    /// B2C's "Require ID Token in logout requests": `/logout` without `id_token_hint`
    /// is refused.
    pub logout_requires_id_token: i32,
}

pub fn find(conn: &mut DbConnection, tenant_id: &str) -> DbResult<Option<TenantUserFlows>> {
    Ok(tenant_user_flows::table
        .find(tenant_id)
        .select(TenantUserFlows::as_select())
        .get_result(conn)
        .optional()?)
}

/// Sets the switches (replacing any earlier ones).
pub fn set(conn: &mut DbConnection, flows: &TenantUserFlows) -> DbResult<()> {
    crate::db::write_tx(conn, |conn| {
        diesel::delete(tenant_user_flows::table.find(&flows.tenant_id)).execute(conn)?;
        diesel::insert_into(tenant_user_flows::table)
            .values(flows)
            .execute(conn)?;
        Ok(())
    })
}
