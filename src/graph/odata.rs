//! The OData query options of Graph's lists: `$top`, `$skiptoken`, `$select`, a
//! `$filter` of comparisons (`eq`, `ne`, `gt`, `ge`, `lt`, `le`) and `startswith` joined
//! by `and`, `$orderby=displayName [asc|desc]` and `$count`. Each resource says which
//! properties and comparisons it takes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::db::users::{Cursor, SortOrder, UserCondition, UserField};

/// Graph's page size when `$top` is not given, and the largest it takes.
pub const DEFAULT_TOP: i64 = 100;
pub const MAX_TOP: i64 = 999;

/// The query options of a list request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub top: i64,
    /// Where the previous page ended, from `$skiptoken`.
    pub after: Option<Cursor>,
    /// `$orderby`: by id when absent.
    pub order: Option<SortOrder>,
    /// `$count=true`.
    pub count: bool,
    /// Properties asked for with `$select`, as written.
    pub select: Option<Vec<String>>,
    /// `$filter`, its properties not yet resolved (see [`user_conditions`]).
    pub clauses: Vec<Clause>,
    /// The options as received but `$skiptoken`, for the next page's link.
    pub carried: Vec<(String, String)>,
}

/// The `$skiptoken` that continues after this position (opaque to callers): the last
/// id, and with `$orderby` the sort key before it.
pub fn skiptoken(cursor: &Cursor) -> String {
    match &cursor.key {
        None => URL_SAFE_NO_PAD.encode(format!("u1:{}", cursor.id)),
        Some(key) => URL_SAFE_NO_PAD.encode(format!("u2:{}:{key}", cursor.id)),
    }
}

/// A page of a collection, serialized as Graph writes it: `@odata.context`,
/// `@odata.count` (with `$count=true`), `@odata.nextLink` (while more may follow),
/// then `value`.
#[derive(serde::Serialize)]
pub struct Page<T: serde::Serialize> {
    #[serde(rename = "@odata.context")]
    pub context: String,
    #[serde(rename = "@odata.count", skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    pub value: Vec<T>,
}

/// `@odata.nextLink`: the request's options again, with the `$skiptoken` that
/// continues after `cursor`.
pub fn next_link(base: &str, path: &str, carried: &[(String, String)], cursor: &Cursor) -> String {
    let mut options = carried.to_vec();
    options.push(("$skiptoken".into(), skiptoken(cursor)));
    let query = serde_urlencoded::to_string(&options).unwrap_or_default();
    format!("{base}{path}?{query}")
}

/// The position a `$skiptoken` continues after.
pub fn cursor(token: &str) -> Result<Cursor, String> {
    let bad = || "The $skiptoken is not valid.".to_owned();
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let good_id = |id: &str| !id.is_empty() && id.len() <= 64 && !id.contains(':');
    if let Some(id) = text.strip_prefix("u1:") {
        return good_id(id)
            .then(|| Cursor {
                id: id.to_owned(),
                key: None,
            })
            .ok_or_else(bad);
    }
    let (id, key) = text
        .strip_prefix("u2:")
        .and_then(|rest| rest.split_once(':'))
        .ok_or_else(bad)?;
    (good_id(id) && key.len() <= 1024)
        .then(|| Cursor {
            id: id.to_owned(),
            key: Some(key.to_owned()),
        })
        .ok_or_else(bad)
}

/// `$orderby`: `displayName`, `displayName asc` or `displayName desc`.
fn parse_orderby(value: &str) -> Result<SortOrder, String> {
    let mut words = value.split_whitespace();
    let property = words.next().unwrap_or_default();
    if !property.eq_ignore_ascii_case("displayName") {
        return Err(format!(
            "Sorting by property '{property}' is not supported; localidp sorts users by displayName."
        ));
    }
    let order = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => SortOrder::Ascending,
        Some("desc") => SortOrder::Descending,
        Some(other) => return Err(format!("Invalid sort direction '{other}' in $orderby.")),
    };
    match words.next() {
        None => Ok(order),
        Some(_) => Err("Only one property may be named in $orderby.".into()),
    }
}

/// `@odata.context` of an answer from `collection`: the collection (with the
/// `$select`ed properties), or one entity.
pub fn context(
    base: &str,
    collection: &str,
    select: Option<&[&'static str]>,
    entity: bool,
) -> String {
    let mut s = format!("{base}/v1.0/$metadata#{collection}");
    if let Some(props) = select {
        s.push('(');
        s.push_str(&props.join(","));
        s.push(')');
    }
    if entity {
        s.push_str("/$entity");
    }
    s
}

/// Reads the options of a list request; an option it does not know is ignored, as
/// Graph ignores what it does not use, but one it cannot use is an error.
pub fn parse_list(query: &str) -> Result<ListQuery, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| "The query string is malformed.")?;
    let mut q = ListQuery {
        top: DEFAULT_TOP,
        ..Default::default()
    };
    for (name, value) in pairs {
        match name.to_ascii_lowercase().as_str() {
            "$top" | "top" => {
                q.top = value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|t| (1..=MAX_TOP).contains(t))
                    .ok_or_else(|| {
                        format!("Invalid page size specified: '{value}'. Must be between 1 and {MAX_TOP} inclusive.")
                    })?;
            }
            "$skiptoken" => {
                q.after = Some(cursor(&value)?);
                continue;
            }
            "$orderby" | "orderby" => q.order = Some(parse_orderby(&value)?),
            "$count" | "count" => {
                q.count = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("Invalid value '{value}' for $count.")),
                }
            }
            "$select" | "select" => q.select = Some(parse_select(&value)?),
            "$filter" | "filter" => q.clauses = parse_clauses(&value)?,
            _ => {}
        }
        q.carried.push((name, value));
    }
    // A token continues the order it was made in.
    if let Some(after) = &q.after
        && after.key.is_some() != q.order.is_some()
    {
        return Err("The $skiptoken is not valid.".into());
    }
    Ok(q)
}

/// `$select` alone (a single object's request).
pub fn parse_select_only(query: &str) -> Result<Option<Vec<String>>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| "The query string is malformed.")?;
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("$select") || n.eq_ignore_ascii_case("select"))
        .map(|(_, v)| parse_select(v))
        .transpose()
}

fn parse_select(value: &str) -> Result<Vec<String>, String> {
    let props: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if props.is_empty() {
        return Err("The $select option is empty.".into());
    }
    Ok(props)
}

fn field(name: &str) -> Result<UserField, String> {
    match name.trim().to_ascii_lowercase().as_str() {
        "displayname" => Ok(UserField::DisplayName),
        "mail" => Ok(UserField::Mail),
        "userprincipalname" => Ok(UserField::UserPrincipalName),
        _ => Err(unsupported_clause(name, "User")),
    }
}

/// A `$filter` clause with its property as written: each resource says which of its
/// properties it filters on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    Equals(String, String),
    StartsWith(String, String),
    /// B2C's `identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…')`, with
    /// `c/signInType eq '…'` optional.
    Identity(IdentityMatch),
    /// Any other comparison: another operator than `eq`, or a value not quoted (a
    /// number, a date and time).
    Compare(String, Comparison, Literal),
}

/// A comparison operator of `$filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A value compared with: quoted text, or a bare word as written (`50126`,
/// `2026-12-01T10:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Bare(String),
}

impl Literal {
    pub fn as_str(&self) -> &str {
        match self {
            Literal::Text(s) | Literal::Bare(s) => s,
        }
    }
}

/// The error of a clause on `property` that a resource does not filter on.
pub fn unsupported_clause(property: &str, resource: &str) -> String {
    format!(
        "Unsupported or invalid query filter clause specified for property '{}' of resource '{resource}'.",
        property.trim()
    )
}

/// The `eq` tests of an `identities/any(…)` clause.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityMatch {
    pub issuer_assigned_id: String,
    pub issuer: Option<String>,
    pub sign_in_type: Option<String>,
}

/// The clauses read as conditions on users; `issuer` is the tenant's domain name, the
/// issuer of its users' local identities (an identity of another issuer matches none).
pub fn user_conditions(clauses: &[Clause], issuer: &str) -> Result<Vec<UserCondition>, String> {
    clauses
        .iter()
        .map(|c| match c {
            Clause::Equals(p, v) => Ok(UserCondition::Equals(field(p)?, v.clone())),
            Clause::StartsWith(p, v) => Ok(UserCondition::StartsWith(field(p)?, v.clone())),
            Clause::Identity(m) => identity_condition(m, issuer),
            Clause::Compare(p, _, _) => Err(unsupported_clause(p, "User")),
        })
        .collect()
}

fn identity_condition(m: &IdentityMatch, issuer: &str) -> Result<UserCondition, String> {
    let field = match m
        .sign_in_type
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => UserField::SignInName,
        Some("emailaddress") => UserField::Mail,
        Some("username") => UserField::UserName,
        Some("userprincipalname") => UserField::UserPrincipalName,
        // Federated identities (another signInType) are not kept here.
        Some(_) => return Ok(UserCondition::Never),
    };
    match &m.issuer {
        Some(i) if !i.trim().eq_ignore_ascii_case(issuer) => Ok(UserCondition::Never),
        _ => Ok(UserCondition::Equals(field, m.issuer_assigned_id.clone())),
    }
}

/// `identities/any(c:c/issuerAssignedId eq 'x' and c/issuer eq 'y')` at the start of
/// `s`: the match and the rest, or `None` when `s` does not start with it.
fn identity_clause(s: &str) -> Option<Result<(IdentityMatch, &str), String>> {
    let head = s.get(..15)?;
    if !head.eq_ignore_ascii_case("identities/any(") {
        return None;
    }
    Some(identity_body(&s[15..]))
}

fn identity_body(s: &str) -> Result<(IdentityMatch, &str), String> {
    let bad = || {
        "Invalid filter clause: identities/any takes (c:c/issuerAssignedId eq '...' and c/issuer eq '...').".to_owned()
    };
    let (var, mut rest) = s.split_once(':').ok_or_else(bad)?;
    let var = var.trim();
    if var.is_empty() || !var.chars().all(char::is_alphanumeric) {
        return Err(bad());
    }
    let mut m = IdentityMatch::default();
    let mut assigned = None;
    loop {
        let (prop, after) = rest
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(bad)?;
        let prop = prop
            .strip_prefix(var)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(bad)?;
        let after = strip_keyword(after.trim_start(), "eq").ok_or_else(bad)?;
        let (value, after) = string_literal(after)?;
        match prop.to_ascii_lowercase().as_str() {
            "issuerassignedid" => assigned = Some(value),
            "issuer" => m.issuer = Some(value),
            "signintype" => m.sign_in_type = Some(value),
            _ => return Err(bad()),
        }
        let after = after.trim_start();
        if let Some(after) = after.strip_prefix(')') {
            m.issuer_assigned_id = assigned.ok_or_else(bad)?;
            return Ok((m, after));
        }
        rest = strip_keyword(after, "and").ok_or_else(bad)?;
    }
}

/// A quoted OData string at the start of `s` ('' is a quote); the value and the rest.
fn string_literal(s: &str) -> Result<(String, &str), String> {
    let bad = || "A string in $filter is not closed.".to_owned();
    let body = s
        .trim_start()
        .strip_prefix('\'')
        .ok_or_else(|| "A value in $filter must be a quoted string ('...').".to_owned())?;
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if matches!(chars.peek(), Some((_, '\''))) {
                chars.next();
                value.push('\'');
            } else {
                return Ok((value, &body[i + 1..]));
            }
        } else {
            value.push(c);
        }
    }
    Err(bad())
}

/// `a eq 'x' and startswith(b,'y')` on users (of a tenant whose domain is `issuer`).
pub fn parse_filter(filter: &str, issuer: &str) -> Result<Vec<UserCondition>, String> {
    user_conditions(&parse_clauses(filter)?, issuer)
}

/// `a eq 'x' and startswith(b,'y')`, the properties as written.
pub fn parse_clauses(filter: &str) -> Result<Vec<Clause>, String> {
    let mut conditions = Vec::new();
    let mut rest = filter.trim();
    loop {
        let (condition, after) = if let Some(found) = identity_clause(rest) {
            let (m, after) = found?;
            (Clause::Identity(m), after)
        } else if let Some(args) = strip_keyword(rest, "startswith") {
            let args = args
                .trim_start()
                .strip_prefix('(')
                .ok_or("startswith takes (property, 'value').")?;
            let (prop, args) = args
                .split_once(',')
                .ok_or("startswith takes (property, 'value').")?;
            let (value, after) = string_literal(args)?;
            let after = after
                .trim_start()
                .strip_prefix(')')
                .ok_or("startswith takes (property, 'value').")?;
            (Clause::StartsWith(prop.trim().to_owned(), value), after)
        } else {
            let (prop, after) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("Invalid filter clause: {filter}"))?;
            let (op, after) = comparison(after.trim_start()).ok_or_else(|| {
                format!(
                    "Invalid filter clause: only eq, ne, gt, ge, lt, le, startswith and 'and' are supported: {filter}"
                )
            })?;
            let prop = prop.trim().to_owned();
            match value_literal(after)? {
                (Literal::Text(value), after) if op == Comparison::Eq => {
                    (Clause::Equals(prop, value), after)
                }
                (value, after) => (Clause::Compare(prop, op, value), after),
            }
        };
        conditions.push(condition);
        let after = after.trim();
        if after.is_empty() {
            return Ok(conditions);
        }
        rest = strip_keyword(after, "and")
            .ok_or_else(|| format!("Invalid filter clause: only 'and' joins conditions: {filter}"))?
            .trim_start();
    }
}

/// A comparison operator at the start of `s`, and the rest.
fn comparison(s: &str) -> Option<(Comparison, &str)> {
    [
        ("eq", Comparison::Eq),
        ("ne", Comparison::Ne),
        ("gt", Comparison::Gt),
        ("ge", Comparison::Ge),
        ("lt", Comparison::Lt),
        ("le", Comparison::Le),
    ]
    .into_iter()
    .find_map(|(word, op)| strip_keyword(s, word).map(|rest| (op, rest)))
}

/// A quoted string, or a bare number or date and time, at the start of `s`.
fn value_literal(s: &str) -> Result<(Literal, &str), String> {
    let s = s.trim_start();
    if s.starts_with('\'') {
        let (value, rest) = string_literal(s)?;
        return Ok((Literal::Text(value), rest));
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | ':' | '.' | '_')))
        .unwrap_or(s.len());
    if end == 0 {
        return Err(
            "A value in $filter must be a quoted string ('...'), a number or a date.".into(),
        );
    }
    Ok((Literal::Bare(s[..end].to_owned()), &s[end..]))
}

/// `s` after a leading keyword (any case) that is followed by a non-identifier.
fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let head = s.get(..keyword.len())?;
    let rest = &s[keyword.len()..];
    let ends = rest
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (head.eq_ignore_ascii_case(keyword) && ends).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_of_eq_startswith_and() {
        let c = parse_filter(
            "startswith(displayName,'Al') and mail eq 'o''neil@x.com'",
            "contoso.onmicrosoft.com",
        )
        .unwrap();
        assert_eq!(
            c,
            vec![
                UserCondition::StartsWith(UserField::DisplayName, "Al".into()),
                UserCondition::Equals(UserField::Mail, "o'neil@x.com".into()),
            ]
        );
        assert!(parse_filter("displayName ne 'x'", "contoso.onmicrosoft.com").is_err());
        assert!(parse_filter("jobTitle eq 'x'", "contoso.onmicrosoft.com").is_err());
        assert!(parse_filter("mail eq 'x' or mail eq 'y'", "contoso.onmicrosoft.com").is_err());
        assert!(parse_filter("mail eq 'x", "contoso.onmicrosoft.com").is_err());
        assert!(parse_filter("mail eq x", "contoso.onmicrosoft.com").is_err());
    }

    #[test]
    fn comparisons_with_numbers_and_dates() {
        let c = parse_clauses(
            "createdDateTime ge 2026-12-01T10:00:00Z and status/errorCode eq 50126 and userId ne 'a'",
        )
        .unwrap();
        let compare = |p: &str, op, v: Literal| Clause::Compare(p.into(), op, v);
        assert_eq!(
            c,
            vec![
                compare(
                    "createdDateTime",
                    Comparison::Ge,
                    Literal::Bare("2026-12-01T10:00:00Z".into())
                ),
                compare(
                    "status/errorCode",
                    Comparison::Eq,
                    Literal::Bare("50126".into())
                ),
                compare("userId", Comparison::Ne, Literal::Text("a".into())),
            ]
        );
        assert!(parse_clauses("createdDateTime ge").is_err());
        assert!(parse_clauses("createdDateTime like 'x'").is_err());
    }

    #[test]
    fn identities_any_filters_on_the_tenant_s_local_identities() {
        let t = "contoso.onmicrosoft.com";
        let f = |s: &str| parse_filter(s, t);
        assert_eq!(
            f("identities/any(c:c/issuerAssignedId eq 'j.smith@x.com' and c/issuer eq 'Contoso.onmicrosoft.com')")
                .unwrap(),
            vec![UserCondition::Equals(UserField::SignInName, "j.smith@x.com".into())]
        );
        assert_eq!(
            f("identities/any(id:id/signInType eq 'userName' and id/issuerAssignedId eq 'jsmith') and startswith(displayName,'J')")
                .unwrap(),
            vec![
                UserCondition::Equals(UserField::UserName, "jsmith".into()),
                UserCondition::StartsWith(UserField::DisplayName, "J".into()),
            ]
        );
        assert_eq!(
            f("identities/any(c:c/issuerAssignedId eq 'a@x.com' and c/issuer eq 'facebook.com')")
                .unwrap(),
            vec![UserCondition::Never]
        );
        assert_eq!(
            f("identities/any(c:c/issuerAssignedId eq 'a@x.com' and c/signInType eq 'federated')")
                .unwrap(),
            vec![UserCondition::Never]
        );
        for bad in [
            "identities/any(c:c/issuer eq 'contoso.onmicrosoft.com')",
            "identities/any(c:d/issuerAssignedId eq 'a')",
            "identities/any(c:c/issuerAssignedId eq 'a'",
            "identities/any(c:c/issuerAssignedId ne 'a')",
            "identities/any(c:c/issuerAssignedId eq 'a' or c/issuer eq 'b')",
            "identities/any(c:c/unknown eq 'a')",
        ] {
            assert!(f(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn top_and_skiptoken() {
        let q = parse_list("$top=5&$select=id,mail").unwrap();
        assert_eq!(q.top, 5);
        assert_eq!(q.select.unwrap(), vec!["id", "mail"]);
        assert!(parse_list("$top=1000").is_err());
        assert!(parse_list("$top=0").is_err());
        let at = Cursor {
            id: "abc".into(),
            key: None,
        };
        let q = parse_list(&format!("$skiptoken={}", skiptoken(&at))).unwrap();
        assert_eq!(q.after, Some(at));
        assert!(q.carried.is_empty());
        let at = Cursor {
            id: "abc".into(),
            key: Some("al: b".into()),
        };
        let token = skiptoken(&at);
        let q = parse_list(&format!("$orderby=displayName desc&$skiptoken={token}")).unwrap();
        assert_eq!(q.after, Some(at));
        assert_eq!(q.order, Some(SortOrder::Descending));
        // A token of one order does not continue another.
        assert!(parse_list(&format!("$skiptoken={token}")).is_err());
        assert!(parse_list("$orderby=mail").is_err());
        assert!(parse_list("$orderby=displayName up").is_err());
        assert!(parse_list("$count=maybe").is_err());
        assert!(parse_list("$count=true").unwrap().count);
        assert!(parse_list("$skiptoken=garbage!").is_err());
    }
}
