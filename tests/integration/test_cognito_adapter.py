"""CognitoIdentity against a moto user pool provisioned like the real one."""
from __future__ import annotations

import pytest

from chalicelib.adapters.cognito import CognitoIdentity
from chalicelib.domain.errors import InvalidCredentials, Unauthenticated, ValidationFailed

PASSWORD = "correct horse battery"


@pytest.fixture
def idp(aws):
    import boto3

    return boto3.client("cognito-idp", region_name="us-east-1")


@pytest.fixture
def pool(aws, idp):
    return CognitoIdentity(lambda: idp, aws["USER_POOL_ID"], aws["USER_POOL_CLIENT_ID"])


@pytest.fixture
def ada(pool):
    pool.create_user("usr_ada", "ada@example.com", PASSWORD, email_verified=False)
    return "usr_ada"


def attributes(idp, pool, user_id: str) -> dict:
    user = idp.admin_get_user(UserPoolId=pool.user_pool_id, Username=user_id)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_a_created_user_has_its_email_and_can_sign_in(idp, pool, ada):
    assert attributes(idp, pool, ada)["email"] == "ada@example.com"
    assert attributes(idp, pool, ada)["email_verified"] == "false"

    tokens = pool.sign_in(ada, PASSWORD)

    assert tokens.access_token and tokens.refresh_token and tokens.expires_in > 0


def test_a_user_created_from_an_invitation_link_is_verified_at_once(idp, pool):
    pool.create_user("usr_bob", "bob@example.com", PASSWORD, email_verified=True)
    assert attributes(idp, pool, "usr_bob")["email_verified"] == "true"


def test_set_email_verified(idp, pool, ada):
    pool.set_email_verified(ada)
    assert attributes(idp, pool, ada)["email_verified"] == "true"


def test_a_password_the_policy_refuses_is_a_validation_error_and_leaves_no_user(idp, pool):
    with pytest.raises(ValidationFailed) as refused:
        pool.create_user("usr_eve", "eve@example.com", "short", email_verified=False)

    assert "password" in refused.value.details
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool.user_pool_id, Username="usr_eve")


def test_a_wrong_password_and_an_unknown_user_are_both_invalid_credentials(pool, ada):
    with pytest.raises(InvalidCredentials):
        pool.sign_in(ada, "wrong password")
    with pytest.raises(InvalidCredentials):
        pool.sign_in("usr_nobody", PASSWORD)


def test_refresh_gives_a_new_access_token(pool, ada):
    tokens = pool.sign_in(ada, PASSWORD)

    refreshed = pool.refresh(tokens.refresh_token)

    assert refreshed.access_token and refreshed.access_token != tokens.access_token
    assert refreshed.expires_in > 0


def test_sign_out_everywhere_kills_every_refresh_token(pool, ada):
    phone, laptop = pool.sign_in(ada, PASSWORD), pool.sign_in(ada, PASSWORD)

    pool.sign_out_everywhere(ada)

    for session in (phone, laptop):
        with pytest.raises(Unauthenticated):
            pool.refresh(session.refresh_token)
    assert pool.sign_in(ada, PASSWORD).access_token  # signing in again still works


def test_set_password_replaces_the_old_one(pool, ada):
    pool.set_password(ada, "a brand new password")

    with pytest.raises(InvalidCredentials):
        pool.sign_in(ada, PASSWORD)
    assert pool.sign_in(ada, "a brand new password").access_token


def test_set_password_refuses_a_short_one_and_keeps_the_old(pool, ada):
    with pytest.raises(ValidationFailed):
        pool.set_password(ada, "short")
    assert pool.sign_in(ada, PASSWORD).access_token


def test_delete_user_removes_the_user_and_may_be_repeated(idp, pool, ada):
    pool.delete_user(ada)

    with pytest.raises(InvalidCredentials):
        pool.sign_in(ada, PASSWORD)
    pool.delete_user(ada)  # already gone: no error
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=pool.user_pool_id, Username=ada)
