"""The Identity port on a Cognito user pool. The username is our user id; email is an attribute.

Authenticator apps (TOTP): the secret is handed out and confirmed with the user's own access token
(AssociateSoftwareToken, VerifySoftwareToken: Cognito checks the token, no IAM permission is involved);
turning the app on or off and answering the sign-in challenge are admin calls on the pool. Cognito checks
every code; the app never sees a TOTP secret after handing it out.
"""
from __future__ import annotations

from ..domain.errors import (InvalidCredentials, InvalidMfaCode, InvalidState, MfaSessionExpired, Unauthenticated,
                             ValidationFailed)
from ..services.ports import SignInChallenge, SignInTokens

TOTP_CHALLENGE = "SOFTWARE_TOKEN_MFA"
_WRONG_CODE = ("CodeMismatchException", "EnableSoftwareTokenMFAException")
_USED_CODE = "This code was used already or is too old. Enter the next code your authenticator app shows."
_NOT_STARTED = "Start adding the authenticator app again: ask for a new secret, then enter the app's code."
# The sign-in step is gone: refused, timed out, or (moto) unknown. Cognito says NotAuthorized for an expired or
# used session and after too many wrong codes.
_DEAD_SESSION = ("NotAuthorizedException", "ResourceNotFoundException", "UserNotFoundException",
                 "TooManyFailedAttemptsException")


class CognitoIdentity:
    def __init__(self, client_factory, user_pool_id: str, client_id: str) -> None:
        self._client_factory = client_factory
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    @property
    def _idp(self):
        return self._client_factory()

    @staticmethod
    def _code(exc: Exception) -> str:
        return getattr(exc, "response", {}).get("Error", {}).get("Code", "")

    def _password_error(self, exc: Exception):
        if self._code(exc) in ("InvalidPasswordException", "InvalidParameterException"):
            return ValidationFailed(details={"password": "does not meet the password policy (at least 8 characters)"})
        return None

    def create_user(self, user_id: str, email: str, password: str, email_verified: bool) -> None:
        try:
            self._idp.admin_create_user(
                UserPoolId=self.user_pool_id, Username=user_id, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": email},
                                {"Name": "email_verified", "Value": "true" if email_verified else "false"}])
            self._idp.admin_set_user_password(UserPoolId=self.user_pool_id, Username=user_id,
                                              Password=password, Permanent=True)
        except Exception as exc:
            mapped = self._password_error(exc)
            if mapped:
                self.delete_user(user_id)
                raise mapped from exc
            raise

    def set_email_verified(self, user_id: str) -> None:
        self._idp.admin_update_user_attributes(UserPoolId=self.user_pool_id, Username=user_id,
                                               UserAttributes=[{"Name": "email_verified", "Value": "true"}])

    def _tokens(self, result: dict, refresh_token: str | None = None) -> SignInTokens:
        auth = result["AuthenticationResult"]
        return SignInTokens(auth["AccessToken"], auth.get("RefreshToken", refresh_token), int(auth["ExpiresIn"]))

    def sign_in(self, user_id: str, password: str) -> SignInTokens:
        try:
            result = self._idp.admin_initiate_auth(
                UserPoolId=self.user_pool_id, ClientId=self.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user_id, "PASSWORD": password})
        except Exception as exc:
            if self._code(exc) in ("NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"):
                raise InvalidCredentials() from exc
            raise
        if result.get("ChallengeName") == TOTP_CHALLENGE and result.get("Session"):
            return SignInChallenge(result["Session"])
        if "AuthenticationResult" not in result:  # a challenge we do not offer
            raise InvalidCredentials()
        return self._tokens(result)

    def _code_error(self, exc: Exception):
        """A refused TOTP code as the domain sees it (None: not about the code)."""
        code = self._code(exc)
        if code in _WRONG_CODE:
            return InvalidMfaCode()
        if code == "ExpiredCodeException":  # Cognito takes each code once
            return InvalidMfaCode(_USED_CODE)
        return None

    def answer_totp(self, user_id: str, session: str, code: str) -> SignInTokens:
        try:
            result = self._idp.admin_respond_to_auth_challenge(
                UserPoolId=self.user_pool_id, ClientId=self.client_id, ChallengeName=TOTP_CHALLENGE, Session=session,
                ChallengeResponses={"USERNAME": user_id, "SOFTWARE_TOKEN_MFA_CODE": code})
        except Exception as exc:
            mapped = self._code_error(exc)
            if mapped is None and self._code(exc) in _DEAD_SESSION:
                mapped = MfaSessionExpired()
            if mapped is not None:
                raise mapped from exc
            raise
        if "AuthenticationResult" not in result:  # another challenge after the code: not one we offer
            raise MfaSessionExpired()
        return self._tokens(result)

    def _token_error(self, exc: Exception):
        """What a call made with the user's own access token failed for (None: not the user's doing)."""
        code = self._code(exc)
        if code == "NotAuthorizedException":  # the token was revoked in the pool (sign-out everywhere)
            return Unauthenticated()
        if code in ("InvalidParameterException", "SoftwareTokenMFANotFoundException"):
            return InvalidState(_NOT_STARTED)
        return self._code_error(exc)

    def start_totp(self, access_token: str) -> str:
        try:
            return self._idp.associate_software_token(AccessToken=access_token)["SecretCode"]
        except Exception as exc:
            mapped = self._token_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise

    def confirm_totp(self, access_token: str, code: str) -> None:
        try:
            result = self._idp.verify_software_token(AccessToken=access_token, UserCode=code,
                                                     FriendlyDeviceName="Latchkey")
        except Exception as exc:
            mapped = self._token_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        if result.get("Status") != "SUCCESS":
            raise InvalidMfaCode()

    def set_totp(self, user_id: str, enabled: bool) -> None:
        try:
            self._idp.admin_set_user_mfa_preference(
                UserPoolId=self.user_pool_id, Username=user_id,
                SoftwareTokenMfaSettings={"Enabled": enabled, "PreferredMfa": enabled})
        except Exception as exc:
            if self._code(exc) == "InvalidParameterException":  # no confirmed secret to turn on
                raise InvalidState(_NOT_STARTED) from exc
            raise

    def refresh(self, refresh_token: str) -> SignInTokens:
        try:
            result = self._idp.admin_initiate_auth(
                UserPoolId=self.user_pool_id, ClientId=self.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token})
        except Exception as exc:
            # Any refusal of the token (NotAuthorized, unknown user, or a pool that cannot parse it) means
            # "sign in again"; only throttling is our problem to report.
            if getattr(exc, "response", None) is not None and "Throttl" not in self._code(exc) \
                    and "TooManyRequests" not in self._code(exc):
                raise Unauthenticated("The refresh token is not valid; sign in again.") from exc
            raise
        return self._tokens(result, refresh_token=None)

    def sign_out_everywhere(self, user_id: str) -> None:
        self._idp.admin_user_global_sign_out(UserPoolId=self.user_pool_id, Username=user_id)

    def set_password(self, user_id: str, password: str) -> None:
        try:
            self._idp.admin_set_user_password(UserPoolId=self.user_pool_id, Username=user_id,
                                              Password=password, Permanent=True)
        except Exception as exc:
            mapped = self._password_error(exc)
            if mapped:
                raise mapped from exc
            raise

    def delete_user(self, user_id: str) -> None:
        try:
            self._idp.admin_delete_user(UserPoolId=self.user_pool_id, Username=user_id)
        except Exception as exc:
            if self._code(exc) != "UserNotFoundException":
                raise
