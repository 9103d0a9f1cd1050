//! `/auditLogs/signIns`: the audit log's `sign_in` events — password sign-ins (the
//! password grant, `/auth/login`, the login page) and sign-ups — as Graph's `signIn`.
//! Tokens issued without a password (refresh, code redemption, client credentials) are
//! not listed: Graph v1.0 lists interactive user sign-ins, and the code flow's sign-in
//! is the login page's.

use serde_json::{Map, Value, json};

use crate::audit::{Category, kind, reason};
use crate::db::audit_events::{AuditRow, LogCondition, LogSources};
use crate::graph::audit_log::{
    LogFilter, LogResource, Names, detail, equals_text, graph_time, property,
};
use crate::graph::odata::{Clause, Comparison, Literal, unsupported_clause};

pub static SIGN_INS: LogResource = LogResource {
    collection: "auditLogs/signIns",
    type_name: "signIn",
    time_property: "createdDateTime",
    id_prefix: "5191e000-0000-4000-8000-",
    properties: &PROPERTIES,
    sources,
    filter,
    to_json,
};

const PROPERTIES: [&str; 24] = [
    "id",
    "createdDateTime",
    "userDisplayName",
    "userPrincipalName",
    "userId",
    "appId",
    "appDisplayName",
    "ipAddress",
    "clientAppUsed",
    "correlationId",
    "conditionalAccessStatus",
    "isInteractive",
    "riskDetail",
    "riskLevelAggregated",
    "riskLevelDuringSignIn",
    "riskState",
    "riskEventTypes",
    "riskEventTypes_v2",
    "resourceDisplayName",
    "resourceId",
    "status",
    "deviceDetail",
    "location",
    "appliedConditionalAccessPolicies",
];

fn sources() -> LogSources {
    let kinds = vec![kind::SIGN_IN_PASSWORD.into(), kind::SIGN_IN_SIGN_UP.into()];
    vec![(Category::SignIn.as_str().into(), Some(kinds))]
}

/// A failure reason's Entra code, message, and what localidp adds.
struct Failure {
    reason: &'static str,
    code: i64,
    message: &'static str,
    details: &'static str,
}

const FAILURES: [Failure; 7] = [
    Failure {
        reason: reason::INVALID_PASSWORD,
        code: 50126,
        message: "Error validating credentials due to invalid username or password.",
        details: "The password is not the user's.",
    },
    Failure {
        reason: reason::NO_PASSWORD,
        code: 50126,
        message: "Error validating credentials due to invalid username or password.",
        details: "The user has no password in localidp.",
    },
    Failure {
        reason: reason::UNKNOWN_USER,
        code: 50034,
        message: "The user account does not exist in the directory.",
        details: "No user of the tenant signs in with this name.",
    },
    Failure {
        reason: reason::DISABLED,
        code: 50057,
        message: "The user account is disabled.",
        details: "The password was right; the account is disabled.",
    },
    Failure {
        reason: reason::LOCKED,
        code: 50053,
        message: "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        details: "The account was locked when this attempt came; its password was not checked.",
    },
    Failure {
        reason: reason::PASSWORD_EXPIRED,
        code: 50055,
        message: "The password is expired.",
        details: "The password was right but temporary: the user must choose a new one.",
    },
    Failure {
        reason: reason::REJECTED,
        code: 90100,
        message: "The sign-up form was refused.",
        details: "",
    },
];

/// Any other failure.
const OTHER_FAILURE: (i64, &str) = (
    50000,
    "There was an error issuing a token or an issue with our sign-in service.",
);

/// `status`: errorCode 0 on success, else Entra's number for the failure.
fn status(row: &AuditRow, d: &Map<String, Value>) -> Value {
    if row.outcome == "success" {
        return json!({"errorCode": 0, "failureReason": null, "additionalDetails": null});
    }
    let known = FAILURES
        .iter()
        .find(|f| Some(f.reason) == row.reason.as_deref());
    let (code, message, details) = match known {
        Some(f) => (f.code, f.message, f.details.to_owned()),
        None => (
            OTHER_FAILURE.0,
            OTHER_FAILURE.1,
            row.reason.clone().unwrap_or_default(),
        ),
    };
    // A sign-up refused says why, in the words the form showed.
    let details = match d.get("message").and_then(Value::as_str) {
        Some(m) => m.to_owned(),
        None => details,
    };
    json!({
        "errorCode": code,
        "failureReason": message,
        "additionalDetails": (!details.is_empty()).then_some(details),
    })
}

/// Entra's `clientAppUsed`: the login page is a browser; the password grant and
/// `/auth/login` are applications that send the password themselves.
fn client_app_used(row: &AuditRow, d: &Map<String, Value>) -> &'static str {
    match d.get("via").and_then(Value::as_str) {
        Some("password_grant" | "auth_login") => "Mobile Apps and Desktop clients",
        _ if row.kind == kind::SIGN_IN_SIGN_UP => "Browser",
        Some("login_form") => "Browser",
        _ => "Other clients",
    }
}

fn to_json(row: &AuditRow, names: &Names, _tenant_id: &str) -> Map<String, Value> {
    let d = detail(row);
    let user = row.user_id.as_ref().and_then(|id| names.users.get(id));
    // A user not found (unknown name, deleted since): the name that was typed.
    let upn = user.map(|u| u.user_principal_name.clone()).or_else(|| {
        d.get("sign_in_name")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let app = row.client_id.as_ref().and_then(|id| names.clients.get(id));
    let properties = [
        ("id", json!(SIGN_INS.entry_id(row.id))),
        ("createdDateTime", json!(graph_time(row.occurred_at))),
        ("userDisplayName", json!(user.map(|u| &u.display_name))),
        ("userPrincipalName", json!(upn)),
        ("userId", json!(row.user_id)),
        ("appId", json!(row.client_id)),
        ("appDisplayName", json!(app)),
        ("ipAddress", json!(row.ip)),
        ("clientAppUsed", json!(client_app_used(row, &d))),
        ("correlationId", json!(row.correlation_id)),
        ("conditionalAccessStatus", json!("notApplied")),
        ("isInteractive", json!(true)),
        ("riskDetail", json!("none")),
        ("riskLevelAggregated", json!("none")),
        ("riskLevelDuringSignIn", json!("none")),
        ("riskState", json!("none")),
        ("riskEventTypes", json!([])),
        ("riskEventTypes_v2", json!([])),
        ("resourceDisplayName", Value::Null),
        ("resourceId", Value::Null),
        ("status", status(row, &d)),
        (
            "deviceDetail",
            json!({"deviceId": "", "displayName": "", "operatingSystem": "", "browser": "",
                   "isCompliant": false, "isManaged": false, "trustType": ""}),
        ),
        (
            "location",
            json!({"city": null, "state": null, "countryOrRegion": null, "geoCoordinates": null}),
        ),
        ("appliedConditionalAccessPolicies", json!([])),
    ];
    properties
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// `userId`, `userPrincipalName`, `appId`, `correlationId`, `ipAddress` (eq) and
/// `status/errorCode` (eq a number, or ne 0).
fn filter(clause: &Clause, f: &mut LogFilter) -> Result<(), String> {
    let p = property(clause).to_ascii_lowercase();
    if p == "status/errorcode" {
        f.conditions.extend(error_code(clause)?);
        return Ok(());
    }
    let value = || equals_text(clause, "signIn").map(str::to_owned);
    match p.as_str() {
        "userid" => f.conditions.push(LogCondition::UserIn(vec![value()?])),
        "userprincipalname" => f.user_principal_names.push(value()?),
        "appid" => f.conditions.push(LogCondition::Client(value()?)),
        "correlationid" => f.conditions.push(LogCondition::Correlation(value()?)),
        "ipaddress" => f.conditions.push(LogCondition::Ip(value()?)),
        _ => return Err(unsupported_clause(property(clause), "signIn")),
    }
    Ok(())
}

fn error_code(clause: &Clause) -> Result<Vec<LogCondition>, String> {
    let bad = || "status/errorCode takes eq with a number, or ne 0.".to_owned();
    let (op, code) = match clause {
        Clause::Compare(_, op, Literal::Bare(n)) => (*op, n.parse::<i64>().map_err(|_| bad())?),
        _ => return Err(bad()),
    };
    let failure = LogCondition::Outcome("failure".into());
    Ok(match (op, code) {
        (Comparison::Eq, 0) => vec![LogCondition::Outcome("success".into())],
        (Comparison::Ne, 0) => vec![failure],
        (Comparison::Eq, n) if n == OTHER_FAILURE.0 => {
            let known = FAILURES.iter().map(|f| f.reason.to_owned()).collect();
            vec![failure, LogCondition::ReasonNotIn(known)]
        }
        (Comparison::Eq, n) => {
            let reasons: Vec<String> = FAILURES
                .iter()
                .filter(|f| f.code == n)
                .map(|f| f.reason.to_owned())
                .collect();
            if reasons.is_empty() {
                vec![LogCondition::Never]
            } else {
                vec![failure, LogCondition::ReasonIn(reasons)]
            }
        }
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::odata::parse_clauses;

    fn conditions(text: &str) -> Result<LogFilter, String> {
        SIGN_INS.parse_filter(text)
    }

    #[test]
    fn error_codes_filter_by_outcome_and_reason() {
        let f = conditions("status/errorCode eq 50053 and userId eq 'u1'").unwrap();
        assert_eq!(
            f.conditions,
            vec![
                LogCondition::Outcome("failure".into()),
                LogCondition::ReasonIn(vec!["locked".into()]),
                LogCondition::UserIn(vec!["u1".into()]),
            ]
        );
        let f = conditions("status/errorCode eq 50126").unwrap();
        assert_eq!(
            f.conditions[1],
            LogCondition::ReasonIn(vec!["invalid_password".into(), "no_password".into()])
        );
        assert_eq!(
            conditions("status/errorCode eq 0").unwrap().conditions,
            vec![LogCondition::Outcome("success".into())]
        );
        assert_eq!(
            conditions("status/errorCode eq 12345").unwrap().conditions,
            vec![LogCondition::Never]
        );
        for bad in [
            "status/errorCode eq '0'",
            "status/errorCode ne 50126",
            "status/errorCode gt 0",
            "userId ne 'x'",
            "startswith(userPrincipalName,'a')",
            "riskState eq 'none'",
            "createdDateTime ne 2026-12-01",
        ] {
            assert!(conditions(bad).is_err(), "{bad}");
        }
        assert!(parse_clauses("userPrincipalName eq 'a@b.c'").is_ok());
        assert_eq!(
            conditions("userPrincipalName eq 'a@b.c'")
                .unwrap()
                .user_principal_names,
            vec!["a@b.c"]
        );
    }

    #[test]
    fn entry_ids_are_uuid_shaped_and_read_back() {
        let id = SIGN_INS.entry_id(0x1234);
        assert_eq!(id, "5191e000-0000-4000-8000-000000001234");
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        assert_eq!(SIGN_INS.row_id(&id.to_uppercase()), Some(0x1234));
        assert_eq!(SIGN_INS.row_id("5191e000-0000-4000-8000-00000000123"), None);
        assert_eq!(
            SIGN_INS.row_id("5191e000-0000-4000-8000-00000000123x"),
            None
        );
        assert_eq!(SIGN_INS.row_id("nope"), None);
    }
}
