"""The Identity port on a Cognito user pool. The username is our user id; email is an attribute."""
from __future__ import annotations

from ..domain.errors import InvalidCredentials, Unauthenticated, ValidationFailed
from ..services.ports import SignInTokens


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
        if "AuthenticationResult" not in result:  # a challenge we do not offer
            raise InvalidCredentials()
        return self._tokens(result)

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
