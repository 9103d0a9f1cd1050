//! `verify_tenants`: whose tokens `/auth/verify` accepts besides the default tenant's.

/// Whose tokens `/auth/verify` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyTenants {
    /// The default tenant's, and these tenants' (GUIDs or names, lower-case).
    DefaultAnd(Vec<String>),
    /// `*`: every tenant's.
    Any,
}

impl VerifyTenants {
    /// The setting as given: tenant GUIDs or names, or `*` among them for every tenant.
    pub fn parse(given: &[String]) -> Result<Self, String> {
        let mut listed = Vec::new();
        for t in given {
            let t = t.trim().to_ascii_lowercase();
            match t.as_str() {
                "*" => return Ok(VerifyTenants::Any),
                "" => return Err("an entry is empty".into()),
                _ => listed.push(t),
            }
        }
        Ok(VerifyTenants::DefaultAnd(listed))
    }

    /// Whether a tenant other than the default one is admitted (by GUID or name).
    pub fn lists(&self, tenant_id: &str, tenant_name: &str) -> bool {
        match self {
            VerifyTenants::Any => true,
            VerifyTenants::DefaultAnd(listed) => listed
                .iter()
                .any(|t| t.eq_ignore_ascii_case(tenant_id) || t.eq_ignore_ascii_case(tenant_name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VerifyTenants;

    fn parse(given: &[&str]) -> Result<VerifyTenants, String> {
        VerifyTenants::parse(&given.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn names_and_ids_in_any_case_or_a_star() {
        let none = parse(&[]).unwrap();
        assert!(!none.lists("2222", "fabrikam.onmicrosoft.com"));
        let listed = parse(&[" Fabrikam.onmicrosoft.com", "3333-ABCD"]).unwrap();
        assert!(listed.lists("2222", "fabrikam.onmicrosoft.com"));
        assert!(listed.lists("3333-abcd", "other"));
        assert!(!listed.lists("4444", "contoso.onmicrosoft.com"));
        assert_eq!(parse(&["a", "*"]).unwrap(), VerifyTenants::Any);
        assert!(VerifyTenants::Any.lists("any", "thing"));
        assert!(parse(&["a", " "]).is_err());
    }
}
