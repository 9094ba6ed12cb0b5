"""Domain errors. Each has a stable `code`; only `api/` knows which status it becomes."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, details: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class ValidationFailed(DomainError):
    """The input breaks a rule of its shape; `details` maps each field to its problem."""

    code = "validation_error"
    default_message = "Some fields are not valid."


class InvalidJson(DomainError):
    """The request body is not JSON (or not a JSON object)."""

    code = "invalid_json"
    default_message = "The request body is not valid JSON."


class Unauthenticated(DomainError):
    """No access token, or one that is malformed, forged or expired."""

    code = "unauthenticated"
    default_message = "Sign in to continue."


class InvalidCredentials(DomainError):
    """Email and password do not match a user (never says which part was wrong)."""

    code = "invalid_credentials"
    default_message = "The email or password is not correct."


class EmailNotVerified(DomainError):
    """The user has not yet followed the verification link."""

    code = "email_not_verified"
    default_message = "Verify your email address first: follow the link we sent you."


class Forbidden(DomainError):
    """A member of the account without the permission the action needs."""

    code = "forbidden"
    default_message = "You do not have permission to do this."


class MfaRequired(Forbidden):
    """The caller's role needs an authenticator app (TOTP) and they have none enrolled (or want to turn it off)."""

    code = "mfa_required"
    default_message = ("Your role at a partner firm requires two-step sign-in. Add an authenticator app: "
                       "POST /me/mfa/totp for a secret, then POST /me/mfa/totp/verify with the 6-digit code the "
                       "app shows.")


class InvalidMfaCode(DomainError):
    """The 6-digit code does not match the authenticator app's current one (or was used already)."""

    code = "invalid_mfa_code"
    default_message = "The code is not correct. Enter the 6-digit code your authenticator app shows now."


class MfaSessionExpired(DomainError):
    """The sign-in step that waits for the authenticator code is unknown, used already, or too old."""

    code = "mfa_session_expired"
    default_message = "This sign-in has expired or was completed already. Sign in again with your email and password."


class EmailMismatch(DomainError):
    """The signed-in user's email is not the one the invitation was sent to."""

    code = "email_mismatch"
    default_message = "This invitation was sent to a different email address."


class NotFound(DomainError):
    """Absent, or present but not visible to the caller (existence is not revealed)."""

    code = "not_found"
    default_message = "Not found."


class AlreadyMember(DomainError):
    """The person already has access to the account."""

    code = "already_member"
    default_message = "This person is already a member of the account."


class InvitationPending(DomainError):
    """A pending invitation to the same email already exists for the account (`holder`: its id)."""

    code = "invitation_pending"
    default_message = "An invitation to this email is already pending; resend it instead."

    def __init__(self, message: str | None = None, holder: str | None = None):
        super().__init__(message)
        self.holder = holder


class AuthorizedUserLimit(DomainError):
    """Both authorized-user slots of the account are taken."""

    code = "authorized_user_limit"
    default_message = "An account can have at most two authorized users."


class InvalidState(DomainError):
    """The object is not in a state that allows the action."""

    code = "invalid_state"
    default_message = "This action is not possible in the current state."


class AddressSuppressed(DomainError):
    """Mail to this address bounced for good or was reported as spam: a person must confirm it first."""

    code = "address_suppressed"
    default_message = ("Latchkey cannot send mail to this address now. Check it; if your own invitation to it did "
                       "not arrive, send again with confirm_address set to true.")


class LastOwner(DomainError):
    """The action would leave an account (or partner) without an owner."""

    code = "last_owner"
    default_message = "The last owner cannot be removed."


class UserExists(DomainError):
    """A user with this email already exists."""

    code = "user_exists"
    default_message = "An account with this email already exists; sign in instead."


class InvitationGone(DomainError):
    """Base of the 410 answers: the link was valid once and is not any more."""

    code = "invitation_gone"


class InvitationExpired(InvitationGone):
    """The invitation's `expires_at` has passed."""

    code = "invitation_expired"
    default_message = "This invitation has expired. Ask for a new invitation."


class InvitationRevoked(InvitationGone):
    """The inviter withdrew the invitation."""

    code = "invitation_revoked"
    default_message = "This invitation was withdrawn. Ask for a new invitation."


class InvitationAccepted(InvitationGone):
    """The invitation has already been used."""

    code = "invitation_accepted"
    default_message = "This invitation has already been accepted."


class InvitationDeclined(InvitationGone):
    """The invitee declined the invitation."""

    code = "invitation_declined"
    default_message = "This invitation was declined. Ask for a new invitation."


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    code = "rate_limited"
    default_message = "Too many attempts. Try again later."

    def __init__(self, retry_after: int, message: str | None = None):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class Conflict(DomainError):
    """A concurrent change won a race; the caller may retry."""

    code = "invalid_state"
    default_message = "The object changed while this request ran; try again."


class RowChanged(Conflict):
    """A client row changed between its read and this write (another owner's change won); retried by the service."""
