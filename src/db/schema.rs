// Hand-written to match migrations/{sqlite,postgres}; both backends share it.

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        display_name -> Text,
        default_client_id -> Nullable<Text>,
        created_at -> BigInt,
        policies -> Text,
        b2c_issuer -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        email -> Nullable<Text>,
        email_normalized -> Nullable<Text>,
        display_name -> Text,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        roles -> Text,
        disabled -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
        username -> Nullable<Text>,
        username_normalized -> Nullable<Text>,
        failed_sign_ins -> Integer,
        locked_until -> Nullable<BigInt>,
        lockouts -> Integer,
        force_change_password -> Integer,
    }
}

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        tenant_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        grant_types -> Text,
        app_roles -> Text,
        created_at -> BigInt,
        optional_claims -> Text,
        claims_mapping -> Text,
        spa_redirect_uris -> Text,
        public_client_redirect_uris -> Text,
        app_role_definitions -> Text,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        created_at -> BigInt,
        description -> Nullable<Text>,
        mail_nickname -> Nullable<Text>,
        mail_enabled -> Bool,
        security_enabled -> Bool,
    }
}

diesel::table! {
    group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        token_hash -> Text,
        family_id -> Text,
        tenant_id -> Text,
        user_id -> Text,
        client_id -> Text,
        scope -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        policy -> Nullable<Text>,
        auth_time -> Nullable<BigInt>,
        access_token_jti -> Nullable<Text>,
        access_token_expires_at -> Nullable<BigInt>,
        parent_id -> Nullable<Text>,
        family_expires_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        private_key_pem -> Nullable<Text>,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
        activates_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(clients -> tenants (tenant_id));
diesel::joinable!(groups -> tenants (tenant_id));
diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    clients,
    groups,
    group_members,
    refresh_tokens,
    signing_keys,
);

// Interactive sign-in (migration 2026-11-23-000002_interactive).

diesel::table! {
    sso_sessions (id) {
        id -> Text,
        token_hash -> Text,
        tenant_id -> Text,
        user_id -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authorization_codes (id) {
        id -> Text,
        code_hash -> Text,
        client_id -> Text,
        user_id -> Text,
        session_id -> Nullable<Text>,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        refresh_family_id -> Text,
        access_token_jti -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_access_tokens (jti) {
        jti -> Text,
        expires_at -> BigInt,
        revoked_at -> BigInt,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    tenant_user_flows (tenant_id) {
        tenant_id -> Text,
        sign_up -> Integer,
        forgot_password -> Integer,
        logout_requires_id_token -> Integer,
    }
}

// Token status (migration 2026-12-01-000007_token_status).

diesel::table! {
    status_changes (id) {
        id -> BigInt,
        kind -> Text,
        subject -> Text,
        expires_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

// API keys (migration 2026-12-01-000009_api_keys).

diesel::table! {
    api_keys (id) {
        id -> Text,
        tenant_id -> Text,
        owner_kind -> Text,
        owner_id -> Text,
        name -> Text,
        key_hash -> Text,
        roles -> Text,
        scopes -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

// Audit log (migration 2026-12-01-000010_audit_log).

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> BigInt,
        category -> Text,
        kind -> Text,
        outcome -> Text,
        reason -> Nullable<Text>,
        actor -> Nullable<Text>,
        tenant_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        correlation_id -> Nullable<Text>,
        detail -> Text,
    }
}

// Microsoft Graph application permissions (migration 2026-12-01-000012_graph_permissions).

diesel::table! {
    graph_permissions (client_id, permission) {
        client_id -> Text,
        permission -> Text,
        granted_at -> BigInt,
    }
}

// Entra directory roles held by users (migration 2026-12-01-000014_directory_roles).

diesel::table! {
    directory_role_members (user_id, role_template_id) {
        user_id -> Text,
        role_template_id -> Text,
        assigned_at -> BigInt,
    }
}

diesel::joinable!(directory_role_members -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(directory_role_members, users);
// A client's further secrets, Graph's passwordCredentials (migration
// 2026-12-01-000015_graph_applications).

diesel::table! {
    client_secrets (key_id) {
        key_id -> Text,
        client_id -> Text,
        display_name -> Nullable<Text>,
        hint -> Text,
        secret_hash -> Text,
        start_at -> BigInt,
        end_at -> BigInt,
    }
}
// Users' app role assignments, Graph's appRoleAssignments (migration
// 2026-12-01-000017_app_role_assignments).

diesel::table! {
    app_role_assignments (id) {
        id -> Text,
        user_id -> Text,
        client_id -> Text,
        role_value -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(app_role_assignments -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(app_role_assignments, users);
diesel::allow_tables_to_appear_in_same_query!(app_role_assignments, clients);

// Brokered sign-in: upstream identities linked to local users, and pending upstream
// requests (migration 2026-12-02-000026_federation_links).

diesel::table! {
    federation_links (provider, subject) {
        provider -> Text,
        subject -> Text,
        issuer -> Text,
        user_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    federation_requests (state_hash) {
        state_hash -> Text,
        provider -> Text,
        tenant_id -> Text,
        browser_hash -> Text,
        params -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(federation_links -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(federation_links, users);
