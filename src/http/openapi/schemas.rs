//! `components.schemas`: the request and response bodies, written by hand from the
//! types that (de)serialize them (named beside each). Graph's entities list the
//! properties localidp returns; `$select` may return fewer, so none is required.

use serde_json::{Value, json};

/// A reference to a schema below.
pub fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn nullable_string() -> Value {
    json!({ "type": ["string", "null"] })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

pub fn all() -> Value {
    let mut schemas = serde_json::Map::new();
    for (name, value) in oauth().into_iter().chain(graph()).chain(dev()) {
        schemas.insert(name.to_owned(), value);
    }
    Value::Object(schemas)
}

fn oauth() -> Vec<(&'static str, Value)> {
    vec![
        (
            // http/error.rs `OAuthResponse` (plain, Entra and B2C flavours), `BearerError`,
            // the body errors of `form_config`/`json_config`, and `not_found`.
            "OAuthError",
            json!({
                "type": "object",
                "description": "RFC 6749 §5.2. Entra's endpoints add `error_codes`, `timestamp`, `trace_id` and `correlation_id`; B2C's start `error_description` with `AADB2C…`.",
                "required": ["error", "error_description"],
                "properties": {
                    "error": string(),
                    "error_description": string(),
                    "error_codes": { "type": "array", "items": { "type": "integer" } },
                    "timestamp": string(),
                    "trace_id": string(),
                    "correlation_id": string(),
                },
            }),
        ),
        (
            // oauth/token_request.rs `TokenForm`.
            "TokenRequest",
            json!({
                "type": "object",
                "description": "RFC 6749 §3.2. Client credentials may come in an `Authorization: Basic` header instead of `client_id`/`client_secret`. Unknown parameters are ignored.",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {
                        "type": "string",
                        "enum": [
                            "password", "client_credentials", "refresh_token", "authorization_code",
                            "urn:ietf:params:oauth:grant-type:jwt-bearer",
                            "urn:ietf:params:oauth:grant-type:token-exchange",
                        ],
                    },
                    "client_id": string(),
                    "client_secret": string(),
                    "scope": string(),
                    "username": { "type": "string", "description": "password grant" },
                    "password": { "type": "string", "description": "password grant" },
                    "refresh_token": { "type": "string", "description": "refresh_token grant" },
                    "code": { "type": "string", "description": "authorization_code grant" },
                    "redirect_uri": { "type": "string", "description": "authorization_code grant" },
                    "code_verifier": { "type": "string", "description": "authorization_code grant (RFC 7636)" },
                    "assertion": { "type": "string", "description": "on-behalf-of (jwt-bearer): the incoming access token" },
                    "requested_token_use": { "type": "string", "description": "on-behalf-of: `on_behalf_of`" },
                    "subject_token": { "type": "string", "description": "token exchange (RFC 8693)" },
                    "subject_token_type": { "type": "string", "description": "token exchange (RFC 8693)" },
                    "client_info": { "type": "string", "description": "`1`: answer with `client_info` (MSAL)" },
                },
            }),
        ),
        (
            // oauth/issue.rs `TokenResponse`.
            "TokenResponse",
            json!({
                "type": "object",
                "required": ["access_token", "token_type", "expires_in", "ext_expires_in", "scope"],
                "properties": {
                    "access_token": string(),
                    "token_type": { "type": "string", "enum": ["Bearer"] },
                    "expires_in": { "type": "integer" },
                    "ext_expires_in": { "type": "integer" },
                    "scope": string(),
                    "refresh_token": string(),
                    "refresh_token_expires_in": { "type": "integer" },
                    "id_token": string(),
                    "client_info": string(),
                },
            }),
        ),
        (
            // http/login_api.rs `LoginRequest`.
            "LoginRequest",
            json!({
                "type": "object",
                "required": ["email", "password"],
                "properties": {
                    "email": { "type": "string", "description": "An email address or user name (`username` is accepted too)." },
                    "password": string(),
                    "client_id": string(),
                    "client_secret": string(),
                },
            }),
        ),
        (
            // http/login_api.rs `LoginResponse`.
            "LoginResponse",
            json!({
                "type": "object",
                "required": ["access_token", "token_type", "expires_in", "claims"],
                "properties": {
                    "access_token": string(),
                    "token_type": { "type": "string", "enum": ["bearer"] },
                    "expires_in": { "type": "integer" },
                    "claims": {
                        "type": "object",
                        "required": ["oid", "tid", "email", "name", "roles", "groups"],
                        "properties": {
                            "oid": string(), "tid": string(),
                            "email": nullable_string(), "name": nullable_string(),
                            "roles": strings(), "groups": strings(),
                        },
                    },
                },
            }),
        ),
        (
            // http/verify.rs `VerifyResponse`.
            "VerifyResponse",
            json!({
                "type": "object",
                "required": ["user_id", "email", "name", "tid", "aud", "azp", "scp", "roles", "groups", "idtyp", "exp", "auth_method"],
                "properties": {
                    "user_id": string(),
                    "email": nullable_string(),
                    "name": nullable_string(),
                    "tid": string(),
                    "policy": string(),
                    "aud": nullable_string(),
                    "azp": nullable_string(),
                    "scp": nullable_string(),
                    "roles": strings(),
                    "groups": strings(),
                    "idtyp": { "type": "string", "enum": ["user", "app"] },
                    "exp": { "type": ["integer", "null"] },
                    "auth_method": { "type": "string", "enum": ["bearer", "api_key"] },
                    "api_key_id": string(),
                    "api_key_name": string(),
                },
            }),
        ),
        (
            // http/discovery.rs `entra_document`, `b2c_document`, `InteractiveMetadata`.
            "OpenIdConfiguration",
            json!({
                "type": "object",
                "description": "OpenID Connect Discovery 1.0 §3.",
                "required": ["issuer", "token_endpoint", "jwks_uri", "authorization_endpoint", "id_token_signing_alg_values_supported", "response_types_supported", "subject_types_supported"],
                "properties": {
                    "issuer": string(),
                    "token_endpoint": string(),
                    "jwks_uri": string(),
                    "authorization_endpoint": string(),
                    "end_session_endpoint": string(),
                    "userinfo_endpoint": string(),
                    "revocation_endpoint": string(),
                    "introspection_endpoint": string(),
                    "tenant_id": string(),
                    "tenant_region_scope": string(),
                    "grant_types_supported": strings(),
                    "scopes_supported": strings(),
                    "claims_supported": strings(),
                    "response_types_supported": strings(),
                    "response_modes_supported": strings(),
                    "subject_types_supported": strings(),
                    "id_token_signing_alg_values_supported": strings(),
                    "token_endpoint_auth_methods_supported": strings(),
                    "code_challenge_methods_supported": strings(),
                },
            }),
        ),
        (
            // crypto: the key ring's `jwks()` (RFC 7517 §5).
            "Jwks",
            json!({
                "type": "object",
                "required": ["keys"],
                "properties": {
                    "keys": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kty", "kid"],
                            "properties": {
                                "kty": string(), "use": string(), "kid": string(), "alg": string(),
                                "n": string(), "e": string(), "x5t": string(), "x5c": strings(),
                                "issuer": string(),
                            },
                        },
                    },
                },
            }),
        ),
        (
            // http/discovery.rs `user_realm`.
            "UserRealm",
            json!({
                "type": "object",
                "required": ["ver", "account_type", "domain_name"],
                "properties": {
                    "ver": string(), "account_type": string(), "domain_name": string(),
                    "cloud_instance_name": string(), "cloud_audience_urn": string(),
                },
            }),
        ),
        (
            // oauth/revocation.rs `UserInfo` (OIDC Core §5.3.2).
            "UserInfo",
            json!({
                "type": "object",
                "required": ["sub", "oid", "tid", "name", "preferred_username"],
                "properties": {
                    "sub": string(), "oid": string(), "tid": string(),
                    "preferred_username": string(), "name": string(),
                    "given_name": string(), "family_name": string(), "email": string(),
                },
            }),
        ),
        (
            // http/revocation.rs `TokenStatusRequest` (RFC 7009 §2.1, RFC 7662 §2.1).
            "TokenStatusRequest",
            json!({
                "type": "object",
                "properties": {
                    "token": string(), "token_type_hint": string(),
                    "client_id": string(), "client_secret": string(),
                },
            }),
        ),
        (
            // oauth/revocation.rs `introspect` (RFC 7662 §2.2).
            "Introspection",
            json!({
                "type": "object",
                "required": ["active"],
                "properties": { "active": { "type": "boolean" } },
            }),
        ),
        (
            // The HTML forms (sign-in, sign-up, password change): their fields and CSRF token.
            "PageForm",
            json!({ "type": "object", "additionalProperties": { "type": "string" } }),
        ),
        (
            "OpenApi",
            json!({ "type": "object", "required": ["openapi", "paths"] }),
        ),
        (
            // http/health.rs.
            "Health",
            json!({
                "type": "object",
                "required": ["status"],
                "properties": { "status": string(), "reason": string() },
            }),
        ),
    ]
}

fn entity(properties: Value) -> Value {
    json!({ "type": "object", "properties": properties })
}

fn graph() -> Vec<(&'static str, Value)> {
    let time = || json!({ "type": ["string", "null"], "format": "date-time" });
    vec![
        (
            // http/graph/error.rs `GraphError::respond`.
            "GraphError",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": string(),
                            "message": string(),
                            "innerError": {
                                "type": "object",
                                "properties": {
                                    "date": string(), "request-id": string(), "client-request-id": string(),
                                },
                            },
                        },
                    },
                },
            }),
        ),
        (
            // A Graph collection: `value`, and `@odata.nextLink` when there is more.
            "GraphCollection",
            json!({
                "type": "object",
                "required": ["value"],
                "properties": {
                    "@odata.context": string(),
                    "@odata.nextLink": string(),
                    "@odata.count": { "type": "integer" },
                    "value": { "type": "array", "items": { "type": "object" } },
                },
            }),
        ),
        (
            // graph/user.rs `UserJson`.
            "User",
            entity(json!({
                "id": string(), "displayName": nullable_string(), "givenName": nullable_string(),
                "surname": nullable_string(), "mail": nullable_string(),
                "userPrincipalName": string(), "accountEnabled": { "type": "boolean" },
                "mailNickname": string(), "businessPhones": strings(),
                "identities": { "type": "array", "items": { "type": "object" } },
                "createdDateTime": time(),
            })),
        ),
        (
            // graph/directory.rs `CreateUser`, `UpdateUser` (other properties ignored).
            "UserBody",
            entity(json!({
                "accountEnabled": { "type": "boolean" }, "displayName": string(),
                "givenName": string(), "surname": string(), "mail": string(),
                "mailNickname": string(), "userPrincipalName": string(),
                "passwordProfile": entity(json!({
                    "password": string(), "passwordHash": string(),
                    "forceChangePasswordNextSignIn": { "type": "boolean" },
                })),
                "identities": { "type": "array", "items": entity(json!({
                    "signInType": string(), "issuer": string(), "issuerAssignedId": string(),
                })) },
            })),
        ),
        (
            // graph/group.rs `to_json`.
            "Group",
            entity(json!({
                "id": string(), "createdDateTime": time(), "description": nullable_string(),
                "displayName": string(), "groupTypes": strings(), "proxyAddresses": strings(),
                "mailEnabled": { "type": "boolean" }, "mailNickname": nullable_string(),
                "securityEnabled": { "type": "boolean" },
            })),
        ),
        (
            // graph/group.rs `GroupBody`.
            "GroupBody",
            entity(json!({
                "displayName": string(), "description": string(), "mailNickname": string(),
                "mailEnabled": { "type": "boolean" }, "securityEnabled": { "type": "boolean" },
                "groupTypes": strings(),
            })),
        ),
        (
            // graph/application.rs: the application and service principal shapes.
            "Application",
            entity(json!({
                "id": string(), "appId": string(), "createdDateTime": time(),
                "displayName": string(), "identifierUris": strings(),
                "isFallbackPublicClient": { "type": "boolean" },
                "signInAudience": string(), "appRoles": { "type": "array", "items": { "type": "object" } },
                "passwordCredentials": { "type": "array", "items": { "type": "object" } },
                "publicClient": { "type": "object" }, "spa": { "type": "object" },
                "web": { "type": "object" },
            })),
        ),
        (
            // graph/application_writes.rs `ApplicationBody`.
            "ApplicationBody",
            entity(json!({
                "displayName": string(),
                "web": entity(json!({ "redirectUris": strings() })),
                "spa": entity(json!({ "redirectUris": strings() })),
                "publicClient": entity(json!({ "redirectUris": strings() })),
                "appRoles": { "type": "array", "items": { "type": "object" } },
                "isFallbackPublicClient": { "type": "boolean" },
            })),
        ),
        (
            // http/graph/api_keys.rs `NewKeyBody` (unknown properties refused).
            "ApiKeyBody",
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "displayName": string(), "roles": strings(), "scopes": strings(),
                    "expirationDateTime": { "type": "string", "format": "date-time" },
                },
            }),
        ),
        ("GraphObject", json!({ "type": "object" })),
    ]
}

fn dev() -> Vec<(&'static str, Value)> {
    vec![
        (
            // oauth/mint.rs `MintRequest`.
            "MintRequest",
            entity(json!({
                "user": string(), "oid": string(), "tenant": string(), "client_id": string(),
                "flavour": { "type": "string", "enum": ["entra", "b2c", "short"] },
                "policy": string(), "scope": string(),
                "kind": { "type": "string", "enum": ["access", "id", "both"] },
                "lifetime": { "type": "integer" }, "nbf_offset": { "type": "integer" },
                "claims": { "type": "object" }, "audience": string(), "issuer": string(),
                "variant": string(),
            })),
        ),
        (
            // oauth/mint.rs `Minted`.
            "Minted",
            json!({
                "type": "object",
                "required": ["token_type", "expires_in"],
                "properties": {
                    "access_token": string(), "id_token": string(),
                    "token_type": string(), "expires_in": { "type": "integer" },
                },
            }),
        ),
        (
            // http/journal.rs `JournalEntry`.
            "Journal",
            json!({
                "type": "object",
                "required": ["requests"],
                "properties": {
                    "requests": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["time", "method", "path", "status"],
                            "properties": {
                                "time": { "type": "integer" }, "method": string(), "path": string(),
                                "query": { "type": "object" }, "form": { "type": ["object", "null"] },
                                "status": { "type": "integer" }, "correlation_id": string(),
                            },
                        },
                    },
                },
            }),
        ),
    ]
}
