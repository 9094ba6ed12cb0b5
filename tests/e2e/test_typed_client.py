"""A client generated from the OpenAPI document (openapi-python-client) walks the README's first steps over
HTTP, reading typed success bodies and typed errors."""
from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def latchkey_client(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    tool = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run([str(tool), "generate", "--path", str(ROOT / "openapi.json"), "--meta", "none",
                           "--output-path", str(out / "latchkey_client")], capture_output=True, text=True, timeout=300)
    assert (out / "latchkey_client" / "client.py").exists(), done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("latchkey_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("latchkey_client")]:
            del sys.modules[name]


def test_the_readme_walk_through_with_a_typed_client(stack, latchkey_client):
    from latchkey_client.api.accounts import create_account
    from latchkey_client.api.identity import get_me, login, signup, verify_email
    from latchkey_client.api.invitations import create_invitation
    from latchkey_client.models import (Account, CreateAccountBody, CreateInvitationBody, Invitation, LoginBody, Me,
                                        SignupBody, Status, Tokens, VerifyEmailBody)

    client = latchkey_client.Client(base_url=stack)
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    # 1. Sign up: a typed 202
    signed = signup.sync(client=client, body=SignupBody(email=email, password="correct horse battery",
                                                         first_name="Ada", last_name="Lovelace"))
    assert isinstance(signed, Status) and signed.status == "verification_sent"
    # 2. Confirm the email with the mailed token (the local mail page is not part of the deployed API)
    link = requests.get(f"{stack}/_dev/outbox", params={"to": email}).json()["items"][0]["links"][0]
    assert verify_email.sync(client=client, body=VerifyEmailBody(token=link.rsplit("/", 1)[1])).status == "verified"
    # a wrong password: a typed error with its code
    refused = login.sync(client=client, body=LoginBody(email=email, password="wrong password"))
    assert type(refused).__name__ == "LoginResponse401" and refused.error.code.value == "invalid_credentials"
    # 3. Log in: typed tokens
    tokens = login.sync(client=client, body=LoginBody(email=email, password="correct horse battery"))
    assert isinstance(tokens, Tokens) and tokens.token_type == "Bearer" and tokens.expires_in > 0
    authed = latchkey_client.AuthenticatedClient(base_url=stack, token=tokens.access_token)
    # 4. Create an account
    account = create_account.sync(client=authed, body=CreateAccountBody.from_dict({"name": "Our home",
                                                                                   "type": "personal"}))
    assert isinstance(account, Account) and account.my_role.value == "owner"
    # 5. See yourself and your accounts
    me = get_me.sync(client=authed)
    assert isinstance(me, Me) and me.user.email == email and [a.name for a in me.accounts] == ["Our home"]
    # invite someone; a second invitation to the same address is a typed 409
    body = CreateInvitationBody.from_dict({"email": "grace@example.com", "role": "collaborator"})
    invitation = create_invitation.sync(account.account_id, client=authed, body=body)
    assert isinstance(invitation, Invitation) and invitation.status.value == "pending"
    again = create_invitation.sync(account.account_id, client=authed, body=body)
    assert type(again).__name__ == "CreateInvitationResponse409" and again.error.code.value == "invitation_pending"
