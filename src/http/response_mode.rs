//! Answering a client at its redirect URI, in the response mode it asked for: query,
//! fragment (OAuth 2.0 Multiple Response Type Encoding Practices §2) or form_post
//! (OAuth 2.0 Form Post Response Mode).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, HttpResponseBuilder};

use super::pages::{self, FormPostPage};
use crate::crypto::secrets;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{AuthorizeError, ReplyTo, ResponseMode};

/// RFC 6749 §4.1.2: the code goes to the client with the state.
pub fn reply_code(reply: &ReplyTo, code: &str, res: HttpResponseBuilder) -> HttpResponse {
    reply_with(reply, vec![("code", code.to_owned())], res)
}

/// RFC 6749 §4.1.2.1: errors go to the registered redirect URI with the state.
pub fn reply_error(reply: &ReplyTo, error: &str, description: &str) -> HttpResponse {
    let fields = vec![
        ("error", error.to_owned()),
        ("error_description", description.to_owned()),
    ];
    reply_with(reply, fields, HttpResponse::Found())
}

/// A refused authorization request: a page when the redirect URI cannot be trusted,
/// else an error at the redirect URI.
pub fn authorize_error(tenant: &TenantInfo, e: AuthorizeError) -> HttpResponse {
    match e {
        AuthorizeError::Page(e) => pages::error_page(&tenant.display_name, &e),
        AuthorizeError::Redirect {
            reply,
            error,
            description,
        } => reply_error(&reply, error, &description),
    }
}

/// Sends parameters to the client as its response_mode asks, adding `state` and
/// `iss` (RFC 9207, against mix-up attacks).
fn reply_with(
    reply: &ReplyTo,
    mut fields: Vec<(&'static str, String)>,
    mut res: HttpResponseBuilder,
) -> HttpResponse {
    if let Some(state) = &reply.state {
        fields.push(("state", state.clone()));
    }
    fields.push(("iss", reply.issuer.clone()));
    match reply.response_mode {
        ResponseMode::FormPost => {
            let nonce = secrets::generate();
            let page = FormPostPage {
                action: reply.redirect_uri.clone(),
                fields,
                script_nonce: nonce.clone(),
            };
            res.status(StatusCode::OK);
            pages::html_with(res, &page, &format!("; script-src 'nonce-{nonce}'"))
        }
        mode => {
            let encoded = serde_urlencoded::to_string(&fields).unwrap_or_default();
            let uri = &reply.redirect_uri;
            let separator = match mode {
                ResponseMode::Fragment => '#',
                _ if uri.contains('?') => '&',
                _ => '?',
            };
            res.insert_header((header::LOCATION, format!("{uri}{separator}{encoded}")))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
    }
}
