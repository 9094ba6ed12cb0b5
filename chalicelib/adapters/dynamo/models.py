"""The one table: keys, indexes and one PynamoDB model per kind of item (keys are built in `keys.py`)."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, DiscriminatorAttribute, JSONAttribute, ListAttribute,
                                 MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute,
                                 UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class ByEmail(GlobalSecondaryIndex):
    """GSI1: everything of one email address — memberships, staff roles, pending invitations (`GET /me`)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Queues(GlobalSecondaryIndex):
    """GSI2 (sparse): work across the whole table — invitations due to expire, applications in review."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Lists(GlobalSecondaryIndex):
    """GSI3 (sparse): a parent's list under a filter, in its order (invitations by status, members by role)."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Every item of the table; `kind` says which model it is."""

    class Meta:
        table_name = "latchkey"
        region = "us-east-1"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    by_email = ByEmail()
    queues = Queues()
    lists = Lists()


class UserItem(Item, discriminator="user"):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    phone = UnicodeAttribute(null=True)
    email_verified = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    last_login_at = UTCDateTimeAttribute(null=True)
    sessions_revoked_at = UTCDateTimeAttribute(null=True)
    reset_generation = NumberAttribute(null=True)  # a reset link works only while it has the user's generation
    partner_roles = MapAttribute(default=dict)  # partner_id -> role, written with the staff membership
    mfa_enabled = BooleanAttribute(null=True)  # an authenticator app is confirmed (read by authorization)
    totp_pending = BooleanAttribute(null=True)  # a TOTP secret was handed out and waits for its first code
    kept_session = UnicodeAttribute(null=True)  # the token id the last sign-out of the other sessions kept
    recovery_codes = UnicodeSetAttribute(null=True)  # digests of the unused recovery codes (domain.recovery_codes)


class EmailItem(Item, discriminator="email"):
    """Sentinel that makes an email unique across users (written with the user, read consistently)."""

    user_id = UnicodeAttribute()


class SignupItem(Item, discriminator="signup"):
    """The newest sign-up attempt for an address nobody has confirmed: it owns nothing until verified.

    `attempt_id` is the user pool user that holds that attempt's password, and the user id it becomes."""

    attempt_id = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()


class TokenItem(Item, discriminator="token"):
    """A mailed one-time link (verification, password reset), keyed by the SHA-256 of its token.

    A verification token names the sign-up attempt it confirms (`user_id`, with its `email`); a reset token
    carries the user's reset generation when it was issued."""

    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    generation = NumberAttribute(null=True)
    expires_at = UTCDateTimeAttribute()


class AccountItem(Item, discriminator="account"):
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    plan = UnicodeAttribute(default="starter")
    status = UnicodeAttribute(default="active")
    owner_ids = ListAttribute(of=UnicodeAttribute, default=list)
    partner_id = UnicodeAttribute(null=True)
    assigned_staff = ListAttribute(of=UnicodeAttribute, default=list)
    business_info = JSONAttribute(default=dict)
    logo_url = UnicodeAttribute(null=True)
    authorized_user_slots = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class MemberItem(Item, discriminator="member"):
    account_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()
    email = UnicodeAttribute(default="")
    joined_at = UTCDateTimeAttribute()


class SeatItem(Item, discriminator="seat"):
    """Sentinel per (account or partner, email): who holds that address's place — a pending invitation or a member.

    Writing it in the invitation's and the membership's transactions makes "one pending invitation per
    email" and "already a member" conditions that need no read first.
    """

    state = UnicodeAttribute()  # "invited" or "member"
    invitation_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)


class PartnerItem(Item, discriminator="partner"):
    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    admin_count = NumberAttribute(default=0)
    version = NumberAttribute(default=0)


class StaffItem(Item, discriminator="staff"):
    partner_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    role = UnicodeAttribute()
    email = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute()


class InviteItem(Item, discriminator="invite"):
    """An invitation, under its target's partition. Index keys are set while it is pending (and gsi3 always)."""

    invitation_id = UnicodeAttribute()
    target_type = UnicodeAttribute(default="account")
    account_id = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()
    delivery_status = UnicodeAttribute(default="queued")
    invited_by_user_id = UnicodeAttribute()
    invited_by_name = UnicodeAttribute(default="")
    invited_by_email = UnicodeAttribute(default="")
    account_name = UnicodeAttribute(default="")
    partner_name = UnicodeAttribute(default="")
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    form_id = UnicodeAttribute(null=True)
    token_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    last_sent_at = UTCDateTimeAttribute(null=True)
    send_count = NumberAttribute(default=0)
    responded_at = UTCDateTimeAttribute(null=True)
    valid_days = NumberAttribute(default=30)


class LinkItem(InviteItem, discriminator="invite_link"):
    """The invitation as its link sees it: a copy under `TOKEN#<sha256>`, kept in step in every transaction.

    One GetItem answers a link (page, read, accept, decline, activate) with no second read.
    """


class ApplicationItem(Item, discriminator="application"):
    """An authorized user's application. Its personal details live only here (deleted when its purpose ends)."""

    account_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    status = UnicodeAttribute()
    details = JSONAttribute(null=True)
    account_name = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute(null=True)
    submitted_at = UTCDateTimeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    notify = ListAttribute(of=UnicodeAttribute, default=list)


class ClientItem(Item, discriminator="client"):
    """A client row (and, as ClientCopyItem, its copies in the filtered lists)."""

    client_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    plan = UnicodeAttribute(default="starter")
    owners = JSONAttribute(default=list)
    assigned_staff = JSONAttribute(default=list)
    preliminary_data = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class ClientCopyItem(ClientItem, discriminator="client_copy"):
    """The client row again, in one filtered list of the firm's clients (by status, by staff, by both)."""


class FormItem(Item, discriminator="form"):
    form_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    title = UnicodeAttribute()
    fields = JSONAttribute(default=list)
    created_at = UTCDateTimeAttribute()


class FormResponseItem(Item, discriminator="form_response"):
    form_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    answers = JSONAttribute(default=dict)
    submitted_at = UTCDateTimeAttribute()
    submitted_by = JSONAttribute(default=dict)


class JobItem(Item, discriminator="job"):
    """A bulk invitation job: counts per owner, and `remaining` counting down to done."""

    job_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    status = UnicodeAttribute(default="queued")
    total = NumberAttribute(default=0)
    succeeded = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    remaining = NumberAttribute(default=0)
    form_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = JSONAttribute(default=dict)


class JobResultItem(Item, discriminator="job_result"):
    """One owner's outcome in a bulk job; written with the invitation, so a redelivered message does it once."""

    client_id = UnicodeAttribute()
    email = UnicodeAttribute()
    status = UnicodeAttribute()
    invitation_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    mailed = BooleanAttribute(default=False)


class SuppressedItem(Item, discriminator="suppressed"):
    reason = UnicodeAttribute()  # "bounce" (permanent) or "complaint"
    at = UTCDateTimeAttribute()
    # Whose mail it refused ("account:<id>", "partner:<id>"): only they may confirm the address again.
    senders = UnicodeSetAttribute(null=True)


class AuditItem(Item, discriminator="audit"):
    event_id = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute(null=True)
    user_log = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    actor = JSONAttribute()
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    details = JSONAttribute(default=dict)


class RateItem(Item, discriminator="rate"):
    hits = NumberAttribute(default=0)


class OutboxItem(Item, discriminator="outbox"):
    """Local stage only: a copy of each sent mail for the local mail page."""

    message_id = UnicodeAttribute()
    to = ListAttribute(of=UnicodeAttribute)
    subject = UnicodeAttribute()
    text = UnicodeAttribute()
    html = UnicodeAttribute()
    links = ListAttribute(of=UnicodeAttribute, default=list)
    sent_at = UTCDateTimeAttribute()


MODELS = (Item, UserItem, EmailItem, SignupItem, TokenItem, AccountItem, MemberItem, SeatItem, PartnerItem, StaffItem,
          InviteItem, LinkItem, ApplicationItem, ClientItem, ClientCopyItem, FormItem, FormResponseItem, JobItem,
          JobResultItem, SuppressedItem, AuditItem, RateItem, OutboxItem)
INDEXES = (ByEmail, Queues, Lists)
