"""Microsoft Graph's Python SDK (msgraph-sdk) with azure-identity's ClientSecretCredential,
against localidp: the credential's authority is localidp, the request adapter's base URL
its /v1.0. Creates, reads, lists (a $filter; paging by @odata.nextLink; $orderby and
$count with ConsistencyLevel: eventual), updates and deletes a user; creates a group and
adds a user to it ($ref), reads its members and the user's memberOf; registers an
application with an app role, adds a secret (which then gets a token), finds its
service principal by appId, assigns the role to a user and lists the assignments;
lists directory roles.

Usage: msgraph_python.py CONFIG_JSON  (base, ca, tenant_id, client_id, client_secret)
Prints one JSON object of results.
"""

import asyncio
import json
import ssl
import sys
import urllib.parse

import httpx
from azure.identity.aio import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.applications.item.add_password.add_password_post_request_body import (
    AddPasswordPostRequestBody,
)
from msgraph.generated.models.app_role import AppRole
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core import GraphClientFactory

cfg = json.loads(sys.argv[1])
out = {}


def odata_error(e):
    return {
        "status": e.response_status_code,
        "code": e.error.code if e.error else None,
        "message": e.error.message if e.error else None,
    }


def query(**kw):
    return UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(**kw)


async def main():
    host = urllib.parse.urlparse(cfg["base"]).netloc
    credential = ClientSecretCredential(
        cfg["tenant_id"],
        cfg["client_id"],
        cfg["client_secret"],
        authority="https://" + host,
        connection_verify=cfg["ca"],
        disable_instance_discovery=True,
    )
    auth = AzureIdentityAuthenticationProvider(
        credential,
        scopes=["https://graph.microsoft.com/.default"],
        allowed_hosts=[urllib.parse.urlparse(cfg["base"]).hostname],
    )
    tls = ssl.create_default_context(cafile=cfg["ca"])
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=tls)
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = cfg["base"] + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    created = await client.users.post(
        User(
            account_enabled=True,
            display_name="Sdk Person",
            mail_nickname="sdk.person",
            user_principal_name="sdk.person@contoso.com",
            password_profile=PasswordProfile(
                force_change_password_next_sign_in=False, password="Str0ng-Passw0rd!"
            ),
        )
    )
    out["created"] = {"id": created.id, "upn": created.user_principal_name}
    for i in range(5):
        await client.users.post(
            User(
                account_enabled=True,
                display_name=f"Sdk Pager {4 - i}",
                user_principal_name=f"sdk.pager{i}@contoso.com",
                password_profile=PasswordProfile(password="Str0ng-Passw0rd!"),
            )
        )

    got = await client.users.by_user_id(created.id).get()
    out["got"] = {"id": got.id, "display_name": got.display_name, "upn": got.user_principal_name}

    page = await client.users.get(
        RequestConfiguration(
            query_parameters=query(filter="userPrincipalName eq 'sdk.person@contoso.com'")
        )
    )
    out["filtered"] = [u.id for u in page.value]

    # Paging: $top=2, then the SDK's with_url on @odata.nextLink.
    config = RequestConfiguration(
        query_parameters=query(filter="startswith(displayName,'Sdk Pager')", top=2)
    )
    page = await client.users.get(config)
    pages, names = 0, []
    while True:
        pages += 1
        names += [u.display_name for u in page.value]
        if not page.odata_next_link:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    out["paged"] = {"pages": pages, "names": names}

    # $orderby with $filter and $count: advanced queries, ConsistencyLevel: eventual.
    config = RequestConfiguration(
        query_parameters=query(
            filter="startswith(displayName,'Sdk Pager')",
            orderby=["displayName"],
            count=True,
            top=3,
        )
    )
    config.headers.add("ConsistencyLevel", "eventual")
    page = await client.users.get(config)
    out["ordered"] = {
        "count": page.odata_count,
        "names": [u.display_name for u in page.value],
        "next": page.odata_next_link is not None,
    }
    config = RequestConfiguration(query_parameters=query(count=True))
    try:
        await client.users.get(config)
        out["count_without_header"] = {"ok": True}
    except ODataError as e:
        out["count_without_header"] = odata_error(e)

    await client.users.by_user_id(created.id).patch(User(display_name="Sdk Renamed"))
    got = await client.users.by_user_id(created.id).get()
    out["updated"] = got.display_name

    await directory_objects(client, created.id, tls)

    await client.users.by_user_id(created.id).delete()
    try:
        await client.users.by_user_id(created.id).get()
        out["after_delete"] = {"ok": True}
    except ODataError as e:
        out["after_delete"] = odata_error(e)
    await credential.close()


async def directory_objects(client, user_id, tls):
    """Groups and memberships, applications and their secrets, service principals,
    app role assignments and directory roles, through the SDK's own models."""
    group = await client.groups.post(
        Group(
            display_name="Sdk Group",
            mail_enabled=False,
            mail_nickname="sdk-group",
            security_enabled=True,
        )
    )
    await client.groups.by_group_id(group.id).members.ref.post(
        ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{user_id}")
    )
    members = await client.groups.by_group_id(group.id).members.get()
    member_of = await client.users.by_user_id(user_id).member_of.get()
    out["group"] = {
        "id": group.id,
        "members": [m.id for m in members.value],
        "member_types": [m.odata_type for m in members.value],
        "member_of": [g.id for g in member_of.value],
    }

    app = await client.applications.post(
        Application(
            display_name="Sdk App",
            web=WebApplication(redirect_uris=["https://sdk-app.test/signin-oidc"]),
            app_roles=[
                AppRole(
                    allowed_member_types=["User"],
                    description="Reads tasks",
                    display_name="Task reader",
                    is_enabled=True,
                    value="Tasks.Read",
                )
            ],
        )
    )
    role_id = next(r.id for r in app.app_roles if r.value == "Tasks.Read")
    cred = await client.applications.by_application_id(app.id).add_password.post(
        AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="sdk"))
    )
    # The secret the SDK got back works at once.
    async with httpx.AsyncClient(verify=tls) as http:
        res = await http.post(
            f"{cfg['base']}/{cfg['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.app_id,
                "client_secret": cred.secret_text,
                "scope": f"api://{app.app_id}/.default",
            },
        )
    sps = await client.service_principals.get(
        RequestConfiguration(
            query_parameters=ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
                filter=f"appId eq '{app.app_id}'"
            )
        )
    )
    sp = sps.value[0]
    assignment = await client.users.by_user_id(user_id).app_role_assignments.post(
        AppRoleAssignment(principal_id=user_id, resource_id=sp.id, app_role_id=role_id)
    )
    assignments = await client.users.by_user_id(user_id).app_role_assignments.get()
    out["application"] = {
        "app_id": app.app_id,
        "roles": [r.value for r in app.app_roles],
        "secret_hint": cred.hint,
        "secret_works": res.status_code == 200,
        "sp_app_id": sp.app_id,
        "sp_roles": [r.value for r in sp.app_roles],
        "assignment": {
            "principal": str(assignment.principal_id),
            "resource": str(assignment.resource_id),
            "role": str(assignment.app_role_id) == str(role_id),
        },
        "assigned": [str(a.resource_id) for a in assignments.value],
        "sp_id": str(sp.id),
    }
    roles = await client.directory_roles.get()
    out["directory_roles"] = [r.display_name for r in roles.value]


asyncio.run(main())
print(json.dumps(out))
