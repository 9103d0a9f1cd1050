use diesel::prelude::*;

use super::schema::tenants;
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub default_client_id: Option<String>,
    pub created_at: i64,
    /// B2C user flows, lower-case, JSON array.
    pub policies: String,
    /// `default` or `tfp`: the issuer format of B2C tokens.
    pub b2c_issuer: String,
}

impl Tenant {
    pub fn policy_list(&self) -> super::DbResult<Vec<String>> {
        super::decode_list(&self.policies)
    }
}

pub fn insert(conn: &mut DbConnection, tenant: &Tenant) -> DbResult<()> {
    diesel::insert_into(tenants::table)
        .values(tenant)
        .execute(conn)?;
    Ok(())
}

/// A tenant named by its GUID or its name, case-insensitively (both are stored lower-case).
pub fn find(conn: &mut DbConnection, id_or_name: &str) -> DbResult<Option<Tenant>> {
    let key = id_or_name.trim().to_ascii_lowercase();
    Ok(tenants::table
        .filter(tenants::id.eq(&key).or(tenants::name.eq(&key)))
        .select(Tenant::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> DbResult<Vec<Tenant>> {
    Ok(tenants::table
        .order((tenants::created_at.asc(), tenants::id.asc()))
        .select(Tenant::as_select())
        .load(conn)?)
}

/// The tenant the short endpoints (`/auth/*`) serve when none is configured: the oldest.
pub fn oldest(conn: &mut DbConnection) -> DbResult<Option<Tenant>> {
    Ok(tenants::table
        .order((tenants::created_at.asc(), tenants::id.asc()))
        .select(Tenant::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_policies(conn: &mut DbConnection, tenant_id: &str, policies: &[String]) -> DbResult<()> {
    diesel::update(tenants::table.find(tenant_id))
        .set(tenants::policies.eq(super::encode_list(policies)))
        .execute(conn)?;
    Ok(())
}

pub fn set_b2c_issuer(conn: &mut DbConnection, tenant_id: &str, format: &str) -> DbResult<()> {
    diesel::update(tenants::table.find(tenant_id))
        .set(tenants::b2c_issuer.eq(format))
        .execute(conn)?;
    Ok(())
}

pub fn set_default_client(
    conn: &mut DbConnection,
    tenant_id: &str,
    client_id: Option<&str>,
) -> DbResult<()> {
    diesel::update(tenants::table.find(tenant_id))
        .set(tenants::default_client_id.eq(client_id))
        .execute(conn)?;
    Ok(())
}
