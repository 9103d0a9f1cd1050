//! Which "authority" a request came through, and so which shapes it is answered in:
//! the short `/auth/*` endpoints, Entra ID v2 (`/{tenant}/...`), or Azure AD B2C
//! (`/{tenant}/{policy}/...`, `?p={policy}`, `/tfp/{tenant}/{policy}/...`).

use std::sync::Arc;

use crate::directory::service::TenantInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavour {
    /// `/auth/*`: Entra v2 claims, plain RFC 6749 errors.
    Short,
    /// Entra ID v2 claims and `AADSTS` errors.
    Entra,
    /// Azure AD B2C v1.0 claims and `AADB2C` errors, for one user flow (lower-case).
    B2c { policy: String },
}

#[derive(Debug, Clone)]
pub struct Authority {
    pub tenant: Arc<TenantInfo>,
    pub flavour: Flavour,
    /// `common`, `organizations` or `consumers` when the URL named no tenant.
    pub alias: Option<&'static str>,
    /// The public base URL this request reached us at (no trailing slash).
    pub base: String,
}

impl Authority {
    pub fn short(tenant: Arc<TenantInfo>, base: String) -> Self {
        Authority {
            tenant,
            flavour: Flavour::Short,
            alias: None,
            base,
        }
    }

    pub fn policy(&self) -> Option<&str> {
        match &self.flavour {
            Flavour::B2c { policy } => Some(policy),
            _ => None,
        }
    }

    /// The user flow as the tenant registered it (`B2C_1_ROPC`), for the `tfp`
    /// claim; [`Authority::policy`] is its lower-case form, for URLs and issuers.
    pub fn registered_policy(&self) -> Option<&str> {
        let policy = self.policy()?;
        Some(
            self.tenant
                .policies
                .iter()
                .find(|p| p.eq_ignore_ascii_case(policy))
                .map_or(policy, String::as_str),
        )
    }

    pub fn is_b2c(&self) -> bool {
        matches!(self.flavour, Flavour::B2c { .. })
    }

    /// The `iss` of tokens issued here, exactly as the metadata document states it.
    pub fn issuer(&self) -> String {
        let (base, tid) = (&self.base, &self.tenant.id);
        match &self.flavour {
            Flavour::B2c { policy } if self.tenant.b2c_tfp_issuer => {
                format!("{base}/tfp/{tid}/{policy}/v2.0/")
            }
            Flavour::B2c { .. } => format!("{base}/{tid}/v2.0/"),
            Flavour::Short | Flavour::Entra => entra_issuer(base, tid),
        }
    }
}

/// Entra ID v2's issuer: `{base}/{tenant id}/v2.0`, no trailing slash.
pub fn entra_issuer(base: &str, tenant_id: &str) -> String {
    format!("{base}/{tenant_id}/v2.0")
}

/// What an `iss` value says about where a token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerForm {
    /// `{public}/{tid}/v2.0`
    Entra { tenant_id: String },
    /// `{public}/{tid}/v2.0/`
    B2cDefault { tenant_id: String },
    /// `{public}/tfp/{tid}/{policy}/v2.0/`
    B2cTfp { tenant_id: String, policy: String },
}

impl IssuerForm {
    pub fn parse(public_url: &str, iss: &str) -> Option<IssuerForm> {
        let rest = iss.strip_prefix(public_url)?.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [tid, "v2.0"] => Some(IssuerForm::Entra {
                tenant_id: (*tid).to_owned(),
            }),
            [tid, "v2.0", ""] => Some(IssuerForm::B2cDefault {
                tenant_id: (*tid).to_owned(),
            }),
            ["tfp", tid, policy, "v2.0", ""] => Some(IssuerForm::B2cTfp {
                tenant_id: (*tid).to_owned(),
                policy: (*policy).to_owned(),
            }),
            _ => None,
        }
    }

    pub fn tenant_id(&self) -> &str {
        match self {
            IssuerForm::Entra { tenant_id }
            | IssuerForm::B2cDefault { tenant_id }
            | IssuerForm::B2cTfp { tenant_id, .. } => tenant_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_forms_parse() {
        let p = "https://id.test";
        assert_eq!(
            IssuerForm::parse(p, "https://id.test/abc/v2.0"),
            Some(IssuerForm::Entra {
                tenant_id: "abc".into()
            })
        );
        assert_eq!(
            IssuerForm::parse(p, "https://id.test/abc/v2.0/"),
            Some(IssuerForm::B2cDefault {
                tenant_id: "abc".into()
            })
        );
        assert_eq!(
            IssuerForm::parse(p, "https://id.test/tfp/abc/b2c_1_x/v2.0/"),
            Some(IssuerForm::B2cTfp {
                tenant_id: "abc".into(),
                policy: "b2c_1_x".into()
            })
        );
        for bad in [
            "https://id.test.evil/abc/v2.0",
            "https://id.test/abc/v1.0",
            "https://id.test/abc/def/v2.0",
            "https://other/abc/v2.0",
            "https://id.test//v2.0/x",
        ] {
            assert_eq!(IssuerForm::parse(p, bad), None, "{bad}");
        }
    }
}
