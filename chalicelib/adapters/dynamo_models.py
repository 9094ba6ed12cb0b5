"""The one table: keys, indexes and one PynamoDB model per kind of item."""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, DiscriminatorAttribute, JSONAttribute, ListAttribute,
                                 NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class ByOwner(GlobalSecondaryIndex):
    """GSI1: things of a user or an email (memberships, pending invitations)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByDue(GlobalSecondaryIndex):
    """GSI2 (sparse): work queues such as invitations due to expire and applications in review."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


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
    ttl = TTLAttribute(null=True)
    by_owner = ByOwner()
    by_due = ByDue()


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


class EmailItem(Item, discriminator="email"):
    """Sentinel that makes an email unique across users (written with the user, read consistently)."""

    user_id = UnicodeAttribute()


class TokenItem(Item, discriminator="token"):
    """A mailed link, keyed by the SHA-256 of its token."""

    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    account_id = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)


class AccountItem(Item, discriminator="account"):
    account_id = UnicodeAttribute()
    name = UnicodeAttribute()
    type = UnicodeAttribute()
    plan = UnicodeAttribute(default="starter")
    status = UnicodeAttribute(default="active")
    owner_ids = ListAttribute(of=UnicodeAttribute, default=list)
    partner_id = UnicodeAttribute(null=True)
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


class AuditItem(Item, discriminator="audit"):
    event_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
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


MODELS = (Item, UserItem, EmailItem, TokenItem, AccountItem, MemberItem, AuditItem, RateItem, OutboxItem)


_connections: dict = {}


def connection():
    """One low-level connection per (region, endpoint) for transactions: building one costs a botocore client."""
    from pynamodb.connection import Connection

    key = (Item.Meta.region, Item.Meta.host)
    if key not in _connections:
        _connections[key] = Connection(region=Item.Meta.region, host=Item.Meta.host)
    return _connections[key]


def bind(table_name: str, region: str, host: str | None = None) -> None:
    """Point every model at a table (and an endpoint such as a moto server); drops cached connections."""
    _connections.clear()
    for model in MODELS:
        model.Meta.table_name = table_name
        model.Meta.region = region
        model.Meta.host = host
        model._connection = None
    for index in (ByOwner, ByDue):
        index._connection = None


def create_table(table_name: str, region: str, host: str | None = None) -> None:
    """Create the table with both indexes and TTL on `ttl` (local stack and tests)."""
    bind(table_name, region, host)
    if not Item.exists():
        Item.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    Item._get_connection().connection.client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})


class InviteItem(Item, discriminator="invite"):
    """An invitation. GSI1 (by email) and GSI2 (due to expire) keys are set only while it is pending."""

    invitation_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    partner_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute()
    role = UnicodeAttribute()
    status = UnicodeAttribute()
    delivery_status = UnicodeAttribute(default="queued")
    invited_by_user_id = UnicodeAttribute()
    invited_by_name = UnicodeAttribute(default="")
    account_name = UnicodeAttribute(default="")
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


class PendingItem(Item, discriminator="pending"):
    """Sentinel: at most one pending invitation per (account, email)."""

    invitation_id = UnicodeAttribute()


MODELS = MODELS + (InviteItem, PendingItem)
