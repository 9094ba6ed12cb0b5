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


# authenticator apps (TOTP) on moto's pool -------------------------------------------------------------------
# What moto 5.2.5 does, which these tests pin down: AssociateSoftwareToken hands every user the same fixed secret
# and keeps no state; with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true (tests/conftest.py, `make run`) it checks
# codes against that secret for the current 30 seconds only (without it, any code passes); VerifySoftwareToken
# works without an earlier AssociateSoftwareToken; AdminSetUserMFAPreference refuses to turn on an unverified app;
# AdminInitiateAuth answers SOFTWARE_TOKEN_MFA with a session once the app is on and preferred; and
# AdminRespondToAuthChallenge takes any user for a session (it does not bind the session to the user it was
# issued for), lets a wrong code be retried, and forgets the session once answered.

def _app_on(pool, user_id: str) -> str:
    from tests.totp import fresh_code

    token = pool.sign_in(user_id, PASSWORD).access_token
    secret = pool.start_totp(token)
    pool.confirm_totp(token, fresh_code(secret))
    pool.set_totp(user_id, True)
    return secret


def test_an_app_is_added_with_the_users_token_and_then_every_sign_in_waits_for_its_code(pool, ada):
    from chalicelib.services.ports import SignInChallenge
    from tests.totp import fresh_code

    secret = _app_on(pool, ada)

    challenge = pool.sign_in(ada, PASSWORD)
    assert isinstance(challenge, SignInChallenge) and challenge.session
    tokens = pool.answer_totp(ada, challenge.session, fresh_code(secret))
    assert tokens.access_token and tokens.refresh_token


def test_moto_refuses_a_wrong_code_when_adding_the_app_and_at_sign_in(pool, ada):
    from chalicelib.domain.errors import InvalidMfaCode
    from tests.totp import fresh_code, wrong_code

    token = pool.sign_in(ada, PASSWORD).access_token
    secret = pool.start_totp(token)
    with pytest.raises(InvalidMfaCode):
        pool.confirm_totp(token, wrong_code(secret))
    pool.confirm_totp(token, fresh_code(secret))
    pool.set_totp(ada, True)
    session = pool.sign_in(ada, PASSWORD).session
    with pytest.raises(InvalidMfaCode):
        pool.answer_totp(ada, session, wrong_code(secret))
    assert pool.answer_totp(ada, session, fresh_code(secret)).access_token  # the same session, retried


def test_an_answered_or_unknown_session_is_an_expired_sign_in(pool, ada):
    from chalicelib.domain.errors import MfaSessionExpired
    from tests.totp import fresh_code

    secret = _app_on(pool, ada)
    session = pool.sign_in(ada, PASSWORD).session
    pool.answer_totp(ada, session, fresh_code(secret))

    with pytest.raises(MfaSessionExpired):
        pool.answer_totp(ada, session, fresh_code(secret))
    with pytest.raises(MfaSessionExpired):
        pool.answer_totp(ada, "an-unknown-session-string", fresh_code(secret))


def test_the_app_cannot_be_turned_on_before_a_code_proved_it_and_turning_off_ends_the_challenge(pool, ada):
    from chalicelib.domain.errors import InvalidState
    from chalicelib.services.ports import SignInTokens

    with pytest.raises(InvalidState):
        pool.set_totp(ada, True)
    _app_on(pool, ada)

    pool.set_totp(ada, False)

    assert isinstance(pool.sign_in(ada, PASSWORD), SignInTokens)


def test_moto_does_not_bind_a_session_to_its_user_which_is_why_the_api_keeps_that_binding_itself(pool, ada):
    # (Cognito refuses this; the API never lets a request name the user: tests/api/test_mfa.py)
    from tests.totp import fresh_code

    pool.create_user("usr_bob", "bob@example.com", PASSWORD, email_verified=True)
    secret = _app_on(pool, ada)
    session = pool.sign_in(ada, PASSWORD).session

    tokens = pool.answer_totp("usr_bob", session, fresh_code(secret))

    assert tokens.access_token  # signed in as Bob with Ada's session


def test_moto_confirms_a_code_without_an_earlier_secret_which_is_why_the_api_asks_for_one_first(pool, ada):
    from tests.totp import fresh_code

    secret = pool.start_totp(pool.sign_in(ada, PASSWORD).access_token)  # moto's one secret, the same for all
    pool.create_user("usr_bob", "bob@example.com", PASSWORD, email_verified=True)

    pool.confirm_totp(pool.sign_in("usr_bob", PASSWORD).access_token, fresh_code(secret))  # Bob asked for none

    pool.set_totp("usr_bob", True)  # and moto now counts his app as proved


# Cognito's refusals, as the adapter maps them (stubbed: moto does not raise all of them) ---------------------

@pytest.fixture
def stubbed():
    """An adapter over a botocore client whose answers the test queues."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("cognito-idp", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield CognitoIdentity(lambda: client, "us-east-1_pool", "client-id"), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("cognito_error, code", [
    ("CodeMismatchException", "invalid_mfa_code"),
    ("ExpiredCodeException", "invalid_mfa_code"),
    ("NotAuthorizedException", "mfa_session_expired"),
    ("TooManyFailedAttemptsException", "mfa_session_expired"),
    ("ResourceNotFoundException", "mfa_session_expired"),
])
def test_a_refused_sign_in_code_becomes_the_contracts_error(stubbed, cognito_error, code):
    from chalicelib.domain.errors import DomainError

    pool, stubber = stubbed
    stubber.add_client_error("admin_respond_to_auth_challenge", service_error_code=cognito_error)
    with pytest.raises(DomainError) as refused:
        pool.answer_totp("usr_ada", "s" * 40, "123456")
    assert refused.value.code == code


@pytest.mark.parametrize("cognito_error, code", [
    ("CodeMismatchException", "invalid_mfa_code"),
    ("EnableSoftwareTokenMFAException", "invalid_mfa_code"),
    ("ExpiredCodeException", "invalid_mfa_code"),
    ("NotAuthorizedException", "unauthenticated"),
    ("InvalidParameterException", "invalid_state"),
    ("SoftwareTokenMFANotFoundException", "invalid_state"),
])
def test_a_refused_enrolment_code_becomes_the_contracts_error(stubbed, cognito_error, code):
    from chalicelib.domain.errors import DomainError

    pool, stubber = stubbed
    stubber.add_client_error("verify_software_token", service_error_code=cognito_error)
    with pytest.raises(DomainError) as refused:
        pool.confirm_totp("access-token", "123456")
    assert refused.value.code == code


def test_a_verification_that_is_not_a_success_is_a_wrong_code(stubbed):
    from chalicelib.domain.errors import InvalidMfaCode

    pool, stubber = stubbed
    stubber.add_response("verify_software_token", {"Status": "ERROR"})
    with pytest.raises(InvalidMfaCode):
        pool.confirm_totp("access-token", "123456")


def test_throttling_is_not_mistaken_for_a_wrong_code(stubbed):
    from botocore.exceptions import ClientError

    pool, stubber = stubbed
    stubber.add_client_error("admin_respond_to_auth_challenge", service_error_code="TooManyRequestsException")
    with pytest.raises(ClientError):
        pool.answer_totp("usr_ada", "s" * 40, "123456")
