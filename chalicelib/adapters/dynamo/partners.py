"""Partner firms and their staff. The profile of each staff member carries their role too (see Users)."""
from __future__ import annotations

from ...domain.model import Page, Partner, StaffMember
from . import keys, table
from .accounts import seat_for_member
from .cursors import Cursors
from .models import PartnerItem, SeatItem, StaffItem
from .unit_of_work import UnitOfWork


def to_partner(i: PartnerItem) -> Partner:
    return Partner(partner_id=i.partner_id, name=i.name, created_at=i.created_at,
                   admin_count=int(i.admin_count or 0), version=int(i.version or 0))


def to_staff(i: StaffItem) -> StaffMember:
    return StaffMember(partner_id=i.partner_id, user_id=i.user_id, role=i.role, email=i.email, joined_at=i.joined_at)


def _partner_key(partner_id: str) -> PartnerItem:
    return PartnerItem(*keys.partner(partner_id))


class Partners:
    def __init__(self, cursors: Cursors) -> None:
        self._cursors = cursors

    def get(self, partner_id: str) -> Partner | None:
        item = table.get(PartnerItem, *keys.partner(partner_id))
        return to_partner(item) if item else None

    def get_many(self, partner_ids: list[str]) -> dict[str, Partner]:
        return {i.partner_id: to_partner(i) for i in table.batch_get([keys.partner(p) for p in partner_ids])
                if isinstance(i, PartnerItem)}

    def get_staff(self, partner_id: str, user_id: str) -> StaffMember | None:
        item = table.get(StaffItem, *keys.staff(partner_id, user_id))
        return to_staff(item) if item else None

    def list_staff(self, partner_id: str, limit: int, cursor: str | None) -> Page:
        scope = f"staff:{partner_id}"
        items, last = table.query_page(keys.partner_pk(partner_id), StaffItem.sk.startswith(keys.STAFF), limit=limit,
                                       start_key=self._cursors.decode(scope, cursor))
        return Page([to_staff(i) for i in items], self._cursors.encode(scope, last))

    # writes -------------------------------------------------------------------------------------
    def add(self, tx: UnitOfWork, partner: Partner) -> None:
        tx.put("partner.new", PartnerItem(*keys.partner(partner.partner_id), partner_id=partner.partner_id,
                                          name=partner.name, created_at=partner.created_at,
                                          admin_count=partner.admin_count, version=partner.version),
               condition=PartnerItem.pk.does_not_exist())

    def add_staff(self, tx: UnitOfWork, staff: StaffMember, count_admin: bool = True) -> None:
        """The staff membership and its email seat; a partner admin also counts on the partner."""
        tx.put("staff.new", StaffItem(*keys.staff(staff.partner_id, staff.user_id), gsi1pk=keys.by_email(staff.email),
                                      gsi1sk=keys.partner_pk(staff.partner_id), partner_id=staff.partner_id,
                                      user_id=staff.user_id, role=staff.role, email=staff.email,
                                      joined_at=staff.joined_at),
               condition=StaffItem.pk.does_not_exist())
        tx.put("seat", seat_for_member(keys.partner_pk(staff.partner_id), staff.email, staff.user_id),
               condition=SeatItem.pk.does_not_exist() | (SeatItem.state == "invited"))
        if staff.role == "partner_admin" and count_admin:
            tx.update("partner.exists", _partner_key(staff.partner_id), [PartnerItem.admin_count.add(1)],
                      condition=PartnerItem.pk.exists())

    def remove_staff(self, tx: UnitOfWork, staff: StaffMember) -> None:
        """Delete the staff membership and its seat; the last partner admin stays (condition `partner.admins`)."""
        tx.delete("staff.role", StaffItem(*keys.staff(staff.partner_id, staff.user_id)),
                  condition=StaffItem.role == staff.role)
        tx.delete("seat.member", SeatItem(*keys.seat(keys.partner_pk(staff.partner_id), staff.email)))
        if staff.role == "partner_admin":
            tx.update("partner.admins", _partner_key(staff.partner_id), [PartnerItem.admin_count.add(-1)],
                      condition=PartnerItem.admin_count > 1)
