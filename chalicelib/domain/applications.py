"""The authorized-user application: the personal details a platform reviewer checks, and its states.

draft -> in_review -> approved | rejected. While it is required, drafted or in review, the member has
admin rights only; approval gives full authorized-user rights; rejection makes them an admin again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from .errors import Forbidden, InvalidState, ValidationFailed

STATUSES = ("draft", "in_review", "approved", "rejected")
REVIEW_STATUSES = ("in_review", "approved", "rejected")
ADULT_AGE = 18
OLDEST_AGE = 130
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # ITU-T E.164: a country code and up to 15 digits in all

# ISO 3166-1 alpha-2: the officially assigned codes (249).
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())


@dataclass
class Application:
    account_id: str
    user_id: str
    email: str
    status: str
    details: dict = field(default_factory=dict)
    account_name: str = ""
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    notify: list[str] = field(default_factory=list)  # the owners' addresses, kept from the submission


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_details(details: dict, today: date) -> dict:
    """The rules a schema cannot say: a real past date of birth of an adult, an E.164 phone, an ISO country."""
    problems: dict[str, str] = {}
    try:
        born = date.fromisoformat(details["date_of_birth"])
    except ValueError:
        problems["date_of_birth"] = "must be a real date as YYYY-MM-DD"
    else:
        if born >= today:
            problems["date_of_birth"] = "must be in the past"
        elif _age_on(born, today) < ADULT_AGE:
            problems["date_of_birth"] = f"the applicant must be at least {ADULT_AGE}"
        elif _age_on(born, today) > OLDEST_AGE:
            problems["date_of_birth"] = "is not a plausible date of birth"
    if not _E164.fullmatch(details["phone"]):
        problems["phone"] = "must be in international E.164 form, e.g. +14155550123"
    if details["address"]["country"] not in COUNTRIES:
        problems["address.country"] = "must be an ISO 3166-1 two-letter country code, e.g. GB"
    if problems:
        raise ValidationFailed(details=problems)
    return details


def require_editable(status: str | None) -> None:
    if status not in (None, "draft"):
        raise InvalidState("This application was submitted already and can no longer be changed.")


def require_independent_reviewer(application: Application | None, user_id: str, email: str) -> None:
    """Four eyes: a reviewer decides no application they are a party to, as the applicant or as an owner of the
    account (the owners are the ones told of it). Another reviewer must."""
    if application is None:
        return
    if application.user_id == user_id or email.casefold() in {e.casefold() for e in application.notify}:
        raise Forbidden("Another reviewer must decide an application you are a party to.")


def require_in_review(application: Application | None) -> Application:
    if application is None or application.status != "in_review":
        raise InvalidState("Only an application in review can be decided.")
    return application
