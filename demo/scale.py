"""City-scale fictional data for benchmarks: ``manage.py seed_demo --scale N`` (DESIGN §6).

``build_scale_city(people=N)`` adds to the demo city (which must be built first)
five years of a large city's work with adults with complex lives, every person
fictional:

* about 50 agencies (the demo's 21 and realistic others: hostels, housing
  associations, GP practices, crisis teams, the voluntary sector), each with
  its auth group, and up to 2,000 users spread over them with roles; they never
  sign in (unusable passwords);
* N people, each with a case; about 1.5 referrals per person (a third of people
  come back through the revolving door: repeat referrals reopen the case), most
  triaged (accepted, redirected, declined, a few withdrawn), a few hundred
  submitted and waiting for triage, and some drafts; referrals about people the
  forum never took on;
* for every case: the agencies involved (the police in about 40% of cases, the
  hostel provider in about 15%), shared risks with owning agencies, care plan
  versions agreed at forum meetings, outcome reviews (emergency contacts and B&B
  nights before and after, accommodation, whether the case was avoidable),
  common core assessments with scores that change over time, consent records
  and sharing bases (some withdrawn, some lapsed), the occasional refused
  hand-off;
* monthly CSF and SOG meetings filling the five years before the demo's own
  year: agendas of 3 to 6 items (cases at the CSF, system issues and topics at
  the SOG), attendance, invitations, minutes, decisions, actions (most done,
  some overdue, a few dropped) and the system issues raised from case learning.

How it is fast: every row is generated in Python from one seeded
``random.Random`` (the same seed on the same database and day gives the same
city) and written in bulk, with primary keys chosen up front (UUIDs, and
explicit ids for agenda items) so children refer to their parents without
reading them back. On PostgreSQL the rows go in by ``COPY``, run by a worker
thread so the server loads one batch while Python makes the next; when the
command owns the transaction, the loaded tables' foreign keys are dropped for
the load and added back before commit (adding them back checks every row, in
one query per key, instead of one deferred check per row at commit); the
database is analysed at the end. Elsewhere (SQLite) it is ``bulk_create`` in
batches of 5,000. No service function runs per row, so no signal fires and no
notification, access event or django-simple-history row is written for this
data: the history of these records starts empty, which the benchmarks do not
need. At 100,000 people (about 8 million rows) it takes about two minutes on
PostgreSQL on two cores; 200 people take about a second on SQLite.

What the product's code relies on is kept, as the services would have left it:

* need to know (``access``): every involved agency has a current
  ``CaseAgency`` row, its group's guardian ``view_case`` permission (the direct
  foreign-key table) and - only where a current consent record or sharing basis
  covers the agency - a ``CaseVisibility`` row whose ``covered_until`` is what
  ``access.coverage_until`` returns. Withdrawn or lapsed consent: no row;
* no hand-offs: risks are owned by involved agencies, high and very high risks
  by at least two; nobody leaves a case;
* care plans: versions numbered from 1, at most one draft, agreed versions
  superseded by the next; agenda items, attendance and invitations satisfy
  their unique constraints;
* the demo GP practice (user ``gp``) is involved in no case, and commissioners'
  agencies never are (DESIGN §6);
* NHS numbers are valid (modulus 11) and from the never-issued 999 range, above
  the demo's own.

The data can be added once: ``scale_data_present`` says whether it is there,
and ``seed_demo --scale`` refuses to add it twice.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
import functools
import io
import itertools
import json
import queue
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from assessments.instrument import NAME as ASSESSMENT_NAME
from assessments.models import Assessment, AssessmentAnswer, AssessmentTemplate, TemplateItem
from cases.matching import phonetic_key
from cases.models import (
    AccommodationStatus,
    CarePlan,
    CarePlanItem,
    Case,
    CaseAgency,
    CaseGroupObjectPermission,
    CaseVisibility,
    Gender,
    HandOffAttempt,
    OutcomeReview,
    Person,
    Risk,
    RiskCategory,
    RiskLevel,
    RiskLevelChange,
    RiskOwner,
)
from consent.models import (
    CapacityOutcome,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    SharingBasis,
)
from csf_portal.dates import years_before
from csf_portal.history import unattributed
from csf_portal.models import Agency, AgencyKind, Role, User
from csf_portal.services import AGENCY_GROUP_PREFIX
from demo import tables
from demo.dates import nth_weekday
from demo.people import fictional_nhs_numbers
from forums.models import (
    Action,
    AgendaItem,
    Attendance,
    Forum,
    ForumDecision,
    ForumMembership,
    Invitation,
    Meeting,
    SystemIssue,
)
from referrals.models import Referral, ReferralReason, ReferralRisk
from referrals.services import EDITABLE_FIELDS

Progress = Callable[[str], None]

# The referral columns the builder fills: the wizard's own fields (the domain's
# list, referrals.services.EDITABLE_FIELDS) and those a referral's way through
# triage sets. A row starts from the model's defaults (``_referral_blank``), as a
# new draft does in the portal.
REFERRAL_FIELDS = (
    "id",
    "state",
    "referrer_id",
    "referring_agency_id",
    "person_id",
    "match_key",
    *sorted(EDITABLE_FIELDS),
    "submitted_at",
    "decided_at",
    "decided_by_id",
    "decision_reason",
    "redirect_destination",
    "redirect_service",
    "withdrawn_at",
    "withdrawal_reason",
    "case_id",
    "assessment_id",
    "is_repeat",
    "created_at",
    "updated_at",
)


@functools.cache
def _referral_blank() -> dict[str, Any]:
    """Each of ``REFERRAL_FIELDS`` at the model's default (the primary key left to the caller)."""
    fields = {f.attname: f for f in Referral._meta.concrete_fields}
    return {
        name: fields[name].get_default() for name in REFERRAL_FIELDS if not fields[name].primary_key
    }


BATCH_SIZE = 5_000  # rows per INSERT for bulk_create
FLUSH_ROWS = 20_000  # rows held per table before they are written
YEARS = 5
CHAIR_AGENCY = "adult-safeguarding"
NEVER_INVOLVED = {"gp", "commissioning", "icb-commissioning", "healthwatch"}
NHS_FIRST_STEM = 999_600_000  # the demo's own numbers stay below 999_400_000

K = AgencyKind
_DATA = tables.load("scale")
_TEXT: dict[str, list[str]] = _DATA["text"]
# Agencies of a large city beyond the demo's 21: (slug, name, kind). The first
# one marks the scale data as present.
SCALE_AGENCIES: tuple[tuple[str, str, str], ...] = tuple(
    (slug, name, K(kind)) for slug, name, kind in _DATA["agencies"]
)

# Share of cases each demo agency is involved in (the chair's agency is in all).
INVOLVEMENT: dict[str, float] = {
    "police": 0.40,
    "hostel": 0.15,
    "housing": 0.30,
    "substance-misuse": 0.35,
    "mental-health": 0.35,
    "probation": 0.15,
    "hospital": 0.18,
    "adult-social-care": 0.22,
    "street-outreach": 0.12,
    "ambulance": 0.06,
    "community-nursing": 0.06,
    "environmental-health": 0.03,
    "neuro-rehab": 0.01,
    "reablement": 0.02,
    "community-connections": 0.05,
    "public-health": 0.02,
}
INVOLVEMENT_BY_KIND: dict[str, float] = {
    K.HOSTEL: 0.05,
    K.HOUSING: 0.04,
    K.GP: 0.05,
    K.MENTAL_HEALTH: 0.04,
    K.SUBSTANCE_MISUSE: 0.05,
    K.VOLUNTARY: 0.03,
    K.PROBATION: 0.03,
    K.HOSPITAL: 0.03,
    K.ADULT_SOCIAL_CARE: 0.02,
    K.PRIVATE_LANDLORD: 0.02,
    K.OTHER: 0.015,
    K.USER_CARER_GROUP: 0.005,
}
# How likely an involved agency is to be the one that refers.
REFERRER_WEIGHT: dict[str, float] = {
    "police": 3.0,
    "hostel": 2.5,
    "mental-health": 2.0,
    "housing": 1.5,
    "substance-misuse": 1.5,
    "probation": 1.5,
    "hospital": 1.5,
    "adult-social-care": 1.5,
    CHAIR_AGENCY: 0.3,
    "public-health": 0.3,
    "community-connections": 0.5,
}
# Where users work (relative sizes); generated agencies weigh 1.5.
STAFF_WEIGHT: dict[str, float] = {
    "police": 8,
    "mental-health": 7,
    "hospital": 6,
    "adult-social-care": 6,
    "housing": 5,
    "substance-misuse": 5,
    "hostel": 4,
    "probation": 4,
    "ambulance": 3,
    CHAIR_AGENCY: 3,
    "community-nursing": 3,
    "street-outreach": 2,
    "reablement": 2,
    "environmental-health": 1,
    "neuro-rehab": 1,
    "community-connections": 1,
    "public-health": 1,
    "commissioning": 1,
    "icb-commissioning": 1,
    "healthwatch": 0.5,
}
JOB_TITLES: dict[str, tuple[str, ...]] = {
    K(kind): tuple(titles) for kind, titles in _DATA["job_titles"].items()
}
DEFAULT_TITLES = tuple(_DATA["default_titles"])

WOMEN = _DATA["women"].split()
MEN = _DATA["men"].split()
FAMILY = _DATA["family"].split()
GP_PRACTICES = tuple(_DATA["gp_practices"])

RC = RiskCategory
L = RiskLevel
LEVELS = tuple(L)  # lowest first, as the model orders them
LEVEL_INDEX = {level: i for i, level in enumerate(LEVELS)}
# MEAM domain -> risk categories it brings, and referral reason codes.
DOMAIN_RISKS: dict[str, tuple[str, ...]] = {
    "homelessness": (RC.EVICTION, RC.SELF_NEGLECT, RC.VIOLENCE_VICTIM),
    "substance_misuse": (RC.ACCIDENTAL_OVERDOSE, RC.BLOOD_BORNE_VIRUS, RC.LIVER_DAMAGE),
    "offending": (RC.VIOLENCE_PERPETRATOR, RC.RISK_TO_STAFF, RC.RISK_TO_PUBLIC),
    "mental_health": (RC.SUICIDE, RC.SELF_HARM, RC.EATING_DISORDER),
}
GENERAL_RISKS = (RC.EXPLOITATION, RC.PHYSICAL_HEALTH, RC.HATE_CRIME, RC.SELF_NEGLECT)
DOMAIN_REASONS: dict[str, tuple[str, ...]] = {
    "homelessness": ("accommodation-need", "retain-accommodation", "eviction"),
    "substance_misuse": ("drinking-drug-use", "suicide-self-harm-overdose"),
    "offending": ("violence", "risk-to-staff-public", "hate-crime"),
    "mental_health": ("mental-health-act", "suicide-self-harm-overdose", "trauma"),
}
GENERAL_REASONS = (
    "multiple-hand-offs",
    "multiple-hand-offs",
    "multiple-hand-offs",
    "thresholds-blocking-help",
    "thresholds-blocking-help",
    "self-neglect",
    "physical-health",
    "imminent-risk-of-death",
    "exploitation-sex-work",
    "eating-disorder",
    "capacity-permanent-home",
    "end-of-life-care",
    "other",
)
RISK_TEXT: dict[str, tuple[str, ...]] = {
    RC(category): tuple(texts) for category, texts in _DATA["risk_text"].items()
}
MITIGATIONS = tuple(_TEXT["mitigations"])
TRIED = tuple(_TEXT["tried"])
HOPED = tuple(_TEXT["hoped"])
DECLINE_REASONS = tuple(_TEXT["decline_reasons"])
REDIRECT_ADVICE = tuple(_TEXT["redirect_advice"])
REDIRECT_SERVICES = tuple(_TEXT["redirect_services"])
WITHDRAW_REASONS = tuple(_TEXT["withdraw_reasons"])
JUSTIFICATIONS: dict[str, str] = {
    SharingBasis.Basis(basis): text for basis, text in _DATA["justifications"].items()
}
PLAN_ITEMS = tuple(_TEXT["plan_items"])
PLAN_SUMMARIES = tuple(_TEXT["plan_summaries"])
AVOIDABLE_NOTES = tuple(_TEXT["avoidable_notes"])
CSF_MINUTES_OPENING = tuple(_TEXT["csf_minutes_opening"])
CSF_MINUTES_AGREED = tuple(_TEXT["csf_minutes_agreed"])
DECISIONS = tuple(_TEXT["decisions"])
CASE_ACTIONS = tuple(_TEXT["case_actions"])
ACTION_NOTES = tuple(_TEXT["action_notes"])
DROP_REASONS = tuple(_TEXT["drop_reasons"])
CSF_TOPICS = tuple(_TEXT["csf_topics"])
SOG_TOPICS = tuple(_TEXT["sog_topics"])
SOG_ACTIONS = tuple(_TEXT["sog_actions"])
SOG_MINUTES = tuple(_TEXT["sog_minutes"])
ISSUE_TITLES: dict[str, tuple[str, ...]] = {
    SystemIssue.Theme(theme): tuple(titles) for theme, titles in _DATA["issue_titles"].items()
}
ISSUE_PLACES = tuple(_TEXT["issue_places"])
RECOMMENDATIONS = tuple(_TEXT["recommendations"])


# --- small helpers ------------------------------------------------------------------------


URGENCIES = tuple(Referral.Urgency.values)
CONSENT_METHODS = tuple(ConsentMethod.values)

# Which way a case's risks went, from its closure outcome.
DIRECTION: dict[str, int] = {"risk_reduced": -1, "risk_unchanged": 0, "risk_increased": 1}


_years_before = years_before


def _nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers from the 999 range (never issued), above the demo's."""
    return fictional_nhs_numbers(count, first=NHS_FIRST_STEM)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is uuid.UUID:
        return str(value)
    if kind is list or kind is dict:
        return json.dumps(value).translate(_COPY_ESCAPES)
    if isinstance(value, str):  # choices (str enums)
        return str(value).translate(_COPY_ESCAPES)
    return value.isoformat()  # date, datetime, time


def scale_data_present() -> bool:
    """Has city-scale data been added to this database already?"""
    return Agency.objects.filter(slug=SCALE_AGENCIES[0][0]).exists()


@contextlib.contextmanager
def _explicit_timestamps(models_: Sequence[type[models.Model]]) -> Iterator[None]:
    """Let ``bulk_create`` keep the dates given: auto_now(_add) would overwrite them."""
    changed: list[tuple[Any, bool, bool]] = []
    for model in models_:
        for f in model._meta.concrete_fields:
            dated: Any = f
            if getattr(dated, "auto_now", False) or getattr(dated, "auto_now_add", False):
                changed.append((dated, dated.auto_now, dated.auto_now_add))
                dated.auto_now = dated.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in changed:
            f.auto_now, f.auto_now_add = now, add


def _copy(raw: Any, sql: str, data: str) -> None:
    """Run one COPY ... FROM STDIN on a DB-API connection (psycopg2 or psycopg 3)."""
    with raw.cursor() as cursor:
        if hasattr(cursor, "copy_expert"):  # psycopg2
            cursor.copy_expert(sql, io.StringIO(data), size=1 << 20)
        else:  # psycopg 3
            with cursor.copy(sql) as copy:
                copy.write(data)


class _Copier:
    """Runs the COPY statements in a worker thread on this transaction's connection.

    PostgreSQL loads one batch while Python makes the next (the driver releases
    the GIL while it waits). The main thread must not use the connection until
    ``drain`` has returned.
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.jobs: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="scale-copy", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    _copy(self.raw, *job)
            except BaseException as exc:
                self.error = exc
            finally:
                self.jobs.task_done()

    def _check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"Loading the scale data failed: {self.error}") from self.error

    def submit(self, sql: str, data: str) -> None:
        self._check()
        self.jobs.put((sql, data))

    def close(self) -> None:
        """Wait for every batch, stop the worker, and raise what went wrong if anything did."""
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()
        self._check()


class _Table:
    """Rows for one table, written in bulk: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(
        self,
        model: type[models.Model],
        names: Sequence[str],
        *,
        copy: Callable[[str, str], None] | None,
    ) -> None:
        meta = model._meta
        self.model = model
        self.names = list(names)
        self.copy = copy
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        given = [meta.get_field(name) for name in self.names]
        attnames = {f.attname for f in given}  # type: ignore[union-attr]
        extra = [
            f
            for f in meta.concrete_fields
            if f.attname not in attnames and not isinstance(f, AutoFieldMixin)
        ]
        if any(f.primary_key for f in extra):
            raise ValueError(f"{meta.label}: give the primary key")
        columns = [str(f.column) for f in [*given, *extra]]  # type: ignore[union-attr]
        tail = [_copy_text(f.get_default()) for f in extra]
        self.tail = ("\t" + "\t".join(tail)) if tail else ""
        qn = connection.ops.quote_name
        self.sql = f"COPY {qn(str(meta.db_table))} ({', '.join(qn(c) for c in columns)}) FROM STDIN"

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        if self.copy is not None:
            tail = self.tail + "\n"
            text = _copy_text
            self.copy(self.sql, "".join(["\t".join([text(v) for v in row]) + tail for row in rows]))
        else:
            model, names = self.model, self.names
            model._default_manager.bulk_create(
                [model(**dict(zip(names, row, strict=True))) for row in rows],
                batch_size=BATCH_SIZE,
            )
        self.written += len(rows)


# --- per-person working state ---------------------------------------------------------------


@dataclass
class _Accepted:
    """One accepted referral: when, who referred, who was involved then."""

    index: int
    decided: datetime.datetime
    referrer: int
    agency: int
    involved: tuple[int, ...]


@dataclass
class _Record:
    """A consent record or sharing basis of one person, before it is written."""

    consent: bool
    pk: uuid.UUID
    starts: datetime.date
    until: datetime.date
    all_members: bool
    agencies: frozenset[int]
    fields: dict[str, Any] = field(default_factory=dict)
    stopped: datetime.datetime | None = None

    def current(self, today: datetime.date) -> bool:
        return self.stopped is None and self.starts <= today <= self.until


@dataclass
class _MeetingPlan:
    pk: uuid.UUID
    forum: str
    day: datetime.date
    starts: datetime.datetime
    ends: datetime.datetime
    wanted: int  # agenda items
    seen: int = 0
    cases: list[tuple[Any, ...]] = field(default_factory=list)  # reservoir of case items


# --- the builder ------------------------------------------------------------------------------


class _City:
    def __init__(self, *, people: int, seed: int, progress: Progress) -> None:
        self.n = people
        self.rng = random.Random(seed)  # noqa: S311 - fictional data, not security
        self.say = progress
        self.started = time.monotonic()
        self.today = timezone.localdate()
        self.start = _years_before(self.today, YEARS)
        self.span = (self.today - self.start).days
        self.copy = connection.vendor == "postgresql"
        self.tables: dict[type[models.Model], _Table] = {}
        self.copier: _Copier | None = None
        self._midnight: dict[datetime.date, datetime.datetime] = {}
        self._phonetic: dict[str, str] = {}

    # --- plumbing -----------------------------------------------------------------------

    def table(self, model: type[models.Model], *names: str) -> _Table:
        table = self.tables.get(model)
        if table is None:
            assert model in _BULK_MODELS, f"add {model._meta.label} to _BULK_MODELS"
            table = self.tables[model] = _Table(
                model, names, copy=self.write_copy if self.copy else None
            )
        return table

    def write_copy(self, sql: str, data: str) -> None:
        if self.copier is not None:
            self.copier.submit(sql, data)
        else:
            connection.ensure_connection()
            _copy(connection.connection, sql, data)

    def start_copier(self) -> None:
        if self.copy and self.copier is None:
            self.copier = _Copier()

    def stop_copier(self) -> None:
        copier, self.copier = self.copier, None
        if copier is not None:
            copier.close()

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def day(self, offset: int) -> datetime.date:
        return self.start + datetime.timedelta(days=offset)

    def at(self, day: datetime.date, minutes: int) -> datetime.datetime:
        """A local, aware moment ``minutes`` after midnight of ``day``."""
        midnight = self._midnight.get(day)
        if midnight is None:
            midnight = self._midnight[day] = timezone.make_aware(
                datetime.datetime.combine(day, datetime.time())
            )
        return midnight + datetime.timedelta(minutes=minutes)

    def work(self, day: datetime.date) -> datetime.datetime:
        """Working hours on the working day nearest ``day`` (never after yesterday)."""
        if day.weekday() == 5:
            day -= datetime.timedelta(days=1)
        elif day.weekday() == 6:
            day += datetime.timedelta(days=1)
        if day >= self.today:
            day = self.today - datetime.timedelta(days=1)
        return self.at(day, self.rng.randint(510, 1050))

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    def match_key(self, born: datetime.date | None, family: str) -> str:
        if born is None:
            return ""
        key = self._phonetic.get(family)
        if key is None:
            key = self._phonetic[family] = phonetic_key(family)
        return f"{born:%Y%m%d}:{key}"[:40]

    # --- reference data and the demo city -----------------------------------------------------

    def load(self) -> None:
        self.chair = User.objects.get(username="chair")
        self.forum_of = {f.kind: f for f in Forum.objects.all()}
        self.view_case = Permission.objects.get(
            codename="view_case", content_type__app_label="cases"
        ).pk
        template = AssessmentTemplate.objects.get(name=ASSESSMENT_NAME, is_current=True)
        self.template = template.pk
        self.items = [
            (item.pk, item.multiplier) for item in TemplateItem.objects.filter(template=template)
        ]
        self.max_score = sum(4 * m for _, m in self.items)
        self.reasons = dict(ReferralReason.objects.values_list("code", "pk"))
        self.role_groups = dict(
            Group.objects.filter(name__in=Role.values).values_list("name", "pk")
        )
        members = ForumMembership.objects.filter(left_on__isnull=True).order_by("pk")
        self.members: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for kind, user_id, agency_id in members.values_list("forum__kind", "user_id", "agency_id"):
            if user_id != self.chair.pk:
                self.members[kind].append((user_id, agency_id))

    def agencies_and_users(self) -> None:
        rng = self.rng
        existing = set(Agency.objects.values_list("slug", flat=True))
        wanted = min(len(SCALE_AGENCIES), max(5, self.n // 1000))
        new = [spec for spec in SCALE_AGENCIES[:wanted] if spec[0] not in existing]
        now = timezone.now()
        groups = Group.objects.bulk_create(
            [Group(name=f"{AGENCY_GROUP_PREFIX}{slug}") for slug, _, _ in new]
        )
        Agency.objects.bulk_create(
            [
                Agency(name=name, slug=slug, kind=kind, group=group, created_at=now, updated_at=now)
                for (slug, name, kind), group in zip(new, groups, strict=True)
            ]
        )
        agencies = list(Agency.objects.order_by("pk"))
        self.agency_kind = {a.pk: a.kind for a in agencies}
        self.agency_name = {a.pk: a.name for a in agencies}
        self.group_of = {a.pk: a.group_id for a in agencies}
        by_slug = {a.slug: a.pk for a in agencies}
        self.chair_agency = by_slug[CHAIR_AGENCY]
        self.gp_agency = by_slug.get("gp")
        self.involvable: list[tuple[int, float]] = []
        for a in agencies:
            if a.slug in NEVER_INVOLVED or a.pk == self.chair_agency:
                continue
            share = INVOLVEMENT.get(a.slug, INVOLVEMENT_BY_KIND.get(a.kind, 0.0))
            if share > 0 and a.kind != K.COMMISSIONER:
                self.involvable.append((a.pk, share))
        self.referrer_weight = {
            a.pk: REFERRER_WEIGHT.get(a.slug, 1.0) for a in agencies if a.slug not in NEVER_INVOLVED
        }

        # Users: enough for every agency that works cases to have practitioners.
        taken = {u.lower() for u in User.objects.values_list("username", flat=True)}
        has_practitioner = set(
            User.objects.filter(
                agency__isnull=False, is_active=True, groups__name=Role.PRACTITIONER
            ).values_list("agency_id", flat=True)
        )
        budget = min(2000, max(20, self.n // 50))
        lacking = [a for a, _ in self.involvable if a not in has_practitioner]
        plan: list[tuple[int, bool]] = [(a, True) for a in lacking]
        ids = [a.pk for a in agencies]
        weights = [0.0 if a.slug == "gp" else STAFF_WEIGHT.get(a.slug, 1.5) for a in agencies]
        if budget > len(plan):
            plan += [(a, False) for a in rng.choices(ids, weights=weights, k=budget - len(plan))]
        users: list[User] = []
        roles: list[tuple[str, ...]] = []
        password = make_password(None)
        for agency_id, must_practise in plan:
            kind = self.agency_kind[agency_id]
            woman = rng.random() < 0.6
            first = rng.choice(WOMEN if woman else MEN)
            last = rng.choice(FAMILY)
            base = f"{first}.{last}".lower().replace("'", "")
            username, n = base, 1
            while username in taken:
                n += 1
                username = f"{base}{n}"
            taken.add(username)
            r = rng.random()
            role: tuple[str, ...] = (Role.PRACTITIONER,)
            if kind == K.COMMISSIONER:
                role = (Role.COMMISSIONER,)
            elif kind == K.USER_CARER_GROUP and not must_practise:
                role = (Role.SOG_MEMBER,)
            elif r < 0.04:
                role = (Role.PRACTITIONER, Role.FORUM_MEMBER)
            elif r < 0.07 and not must_practise:
                role = (Role.SOG_MEMBER,)
            users.append(
                User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@demo.csf-portal.invalid",
                    agency_id=agency_id,
                    job_title=rng.choice(JOB_TITLES.get(kind, DEFAULT_TITLES)),
                    password=password,
                    date_joined=self.at(self.start, 540),
                )
            )
            roles.append(role)
        created = User.objects.bulk_create(users, batch_size=BATCH_SIZE)
        through = self.table(User.groups.through, "user_id", "group_id")
        for user, role in zip(created, roles, strict=True):
            for name in role:
                through.add((user.pk, self.role_groups[name]))
        through.flush()

        # Who can do what, by agency (sorted, so the city is the same each time).
        self.practitioners: dict[int, list[int]] = defaultdict(list)
        self.staff: dict[int, list[int]] = defaultdict(list)
        rows = User.objects.filter(agency__isnull=False, is_active=True).values_list(
            "pk", "agency_id", "groups__name"
        )
        for user_id, agency_id, group in sorted(rows, key=lambda r: (r[0], r[2] or "")):
            if user_id not in self.staff[agency_id]:
                self.staff[agency_id].append(user_id)
            if group == Role.PRACTITIONER and user_id not in self.practitioners[agency_id]:
                self.practitioners[agency_id].append(user_id)
        if not self.practitioners[self.chair_agency]:
            self.practitioners[self.chair_agency] = [self.chair.pk]  # chairs refer too
        for agency_id, _ in self.involvable:
            if not self.practitioners[agency_id]:
                self.practitioners[agency_id] = list(self.staff[agency_id])
        self.user_agency = {u: a for a, users_ in self.staff.items() for u in users_}
        self.involvable = [(a, p) for a, p in self.involvable if self.practitioners[a]]
        self.say(
            f"agencies and users: {len(new)} agencies and {len(created)} users added "
            f"({self.elapsed()})"
        )

    # --- meetings: the skeleton the people pass refers to -------------------------------------

    def meetings(self) -> None:
        """Monthly CSF and SOG meetings for the five years, in the months the demo leaves empty."""
        rng = self.rng
        existing = list(
            Meeting.objects.filter(forum__kind__in=[Forum.Kind.CSF, Forum.Kind.SOG]).values_list(
                "forum__kind", "pk", "starts_at", "state"
            )
        )
        taken = {
            (k, timezone.localtime(s).year, timezone.localtime(s).month) for k, _, s, _ in existing
        }
        self.plans: list[_MeetingPlan] = []
        year, month = self.today.year, self.today.month
        months = []
        for _ in range(YEARS * 12):
            months.append((year, month))
            month -= 1
            if month == 0:
                year, month = year - 1, 12
        for kind, weekday, nth, hour in (
            (Forum.Kind.CSF, 2, 2, 10),
            (Forum.Kind.SOG, 3, -1, 14),
        ):
            for y, m in sorted(months):
                if (kind, y, m) in taken:
                    continue
                day = nth_weekday(y, m, weekday, nth)
                if (day.month, day.day) in {(12, 25), (12, 26), (1, 1)}:
                    day -= datetime.timedelta(days=7)
                if day >= self.today - datetime.timedelta(days=1):
                    continue
                starts = self.at(day, hour * 60)
                self.plans.append(
                    _MeetingPlan(
                        pk=self.uid(),
                        forum=kind,
                        day=day,
                        starts=starts,
                        ends=starts + datetime.timedelta(hours=2),
                        wanted=rng.choice((3, 4, 4, 5, 5, 6)),
                    )
                )
        self.plans.sort(key=lambda p: (p.starts, p.forum))
        self.next_item = (AgendaItem.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        self.csf_plans = [p for p in self.plans if p.forum == Forum.Kind.CSF]
        self.csf_plan_days = [p.day for p in self.csf_plans]
        # Every past CSF meeting (the demo's too): care plans are agreed at them.
        held = (Meeting.State.HELD, Meeting.State.MINUTES_APPROVED)
        past = [
            (timezone.localtime(s).date(), pk)
            for k, pk, s, state in existing
            if k == Forum.Kind.CSF and state in held
        ]
        past += [(p.day, p.pk) for p in self.csf_plans]
        past.sort()
        self.csf_days = [d for d, _ in past]
        self.csf_ids = [pk for _, pk in past]
        self.last_csf = self.csf_days[-1] if self.csf_days else self.start
        # When each meeting's minutes were approved: at the next meeting of its forum.
        self.next_start: dict[uuid.UUID, datetime.datetime] = {}
        for kind in (Forum.Kind.CSF, Forum.Kind.SOG):
            order = sorted(
                [(s, pk) for k, pk, s, _ in existing if k == kind]
                + [(p.starts, p.pk) for p in self.plans if p.forum == kind]
            )
            for (_, pk), (following, _) in itertools.pairwise(order):
                self.next_start[pk] = following
        self.say(f"meetings planned: {len(self.plans)} over {YEARS} years ({self.elapsed()})")

    def meeting_after(self, day: datetime.date) -> tuple[datetime.date, uuid.UUID] | None:
        i = bisect.bisect_right(self.csf_days, day)
        return (self.csf_days[i], self.csf_ids[i]) if i < len(self.csf_days) else None

    # --- people ----------------------------------------------------------------------------------

    def people(self) -> None:
        self.t_person = self.table(
            Person,
            "id",
            "given_name",
            "family_name",
            "other_names",
            "date_of_birth",
            "nhs_number",
            "gender",
            "accommodation_status",
            "gp_practice",
            "created_at",
            "updated_at",
        )
        self.t_case = self.table(
            Case,
            "id",
            "person_id",
            "state",
            "opened_at",
            "closed_at",
            "closure_outcome",
            "times_reopened",
            "created_at",
            "updated_at",
        )
        self.t_referral = self.table(Referral, *REFERRAL_FIELDS)
        self.t_reasons = self.table(Referral.reasons.through, "referral_id", "referralreason_id")
        self.t_services = self.table(Referral.services_involved.through, "referral_id", "agency_id")
        self.t_sharing = self.table(Referral.sharing_agencies.through, "referral_id", "agency_id")
        self.t_referral_risk = self.table(
            ReferralRisk, "referral_id", "category", "level", "description", "created_at"
        )
        self.t_involved = self.table(
            CaseAgency,
            "case_id",
            "agency_id",
            "role",
            "named_worker_id",
            "joined_at",
            "work_phone",
            "team_inbox",
            "out_of_hours",
            "version",
            "created_at",
            "updated_at",
        )
        self.t_perm = self.table(
            CaseGroupObjectPermission, "permission_id", "group_id", "content_object_id"
        )
        self.t_visible = self.table(
            CaseVisibility,
            "agency_id",
            "case_id",
            "person_id",
            "last_activity_at",
            "granted_at",
            "covered_from",
            "covered_until",
        )
        self.t_consent = self.table(
            ConsentRecord,
            "id",
            "person_id",
            "all_member_agencies",
            "purposes",
            "method",
            "given_on",
            "recorded_by_id",
            "capacity_considered",
            "capacity_outcome",
            "review_date",
            "withdrawn_at",
            "withdrawal_recorded_by_id",
            "withdrawal_note",
            "created_at",
            "updated_at",
        )
        self.t_consent_agencies = self.table(
            ConsentRecord.agencies.through, "consentrecord_id", "agency_id"
        )
        self.t_basis = self.table(
            SharingBasis,
            "id",
            "person_id",
            "basis",
            "justification",
            "all_member_agencies",
            "status",
            "requested_by_id",
            "requested_at",
            "approved_by_id",
            "approved_at",
            "approver_role",
            "starts_on",
            "ends_on",
            "ended_at",
            "ended_by_id",
            "created_at",
            "updated_at",
        )
        self.t_basis_agencies = self.table(
            SharingBasis.agencies.through, "sharingbasis_id", "agency_id"
        )
        self.t_risk = self.table(
            Risk,
            "id",
            "case_id",
            "category",
            "level",
            "level_at_referral",
            "description",
            "mitigations",
            "status",
            "version",
            "created_at",
            "updated_at",
            "closed_at",
            "level_at_closure",
            "closure_reason",
        )
        self.t_level = self.table(
            RiskLevelChange, "risk_id", "level", "changed_at", "changed_by_id"
        )
        self.t_owner = self.table(
            RiskOwner,
            "risk_id",
            "agency_id",
            "accepted_by_id",
            "accepted_at",
            "created_at",
            "updated_at",
        )
        self.t_plan = self.table(
            CarePlan,
            "id",
            "case_id",
            "version",
            "state",
            "summary",
            "agreed_at",
            "agreed_meeting_id",
            "agreed_by_id",
            "created_at",
            "updated_at",
        )
        self.t_plan_item = self.table(
            CarePlanItem, "plan_id", "what", "agency_id", "named_worker_id", "by_when", "order"
        )
        self.t_review = self.table(
            OutcomeReview,
            "id",
            "case_id",
            "period_start",
            "period_end",
            "police_contacts",
            "ambulance_contacts",
            "ae_attendances",
            "unplanned_admissions",
            "bnb_nights",
            "accommodation_status",
            "housing_satisfied",
            "risk_levels",
            "assessment_score",
            "avoidable",
            "avoidable_note",
            "recorded_by_id",
            "created_at",
            "updated_at",
        )
        self.t_assessment = self.table(
            Assessment,
            "id",
            "person_id",
            "template_id",
            "state",
            "assessor_id",
            "agency_id",
            "completed_at",
            "total_score",
            "max_score",
            "created_at",
            "updated_at",
        )
        self.t_answer = self.table(
            AssessmentAnswer, "assessment_id", "item_id", "score", "narrative"
        )
        self.t_handoff = self.table(
            HandOffAttempt, "case_id", "agency_id", "kind", "attempted_by_id", "attempted_at"
        )

        # From here to ``finish`` the main thread only makes rows: no queries.
        self.start_copier()
        self.nhs = _nhs_numbers(self.n + self.n // 10 + 1000)
        self.nhs.reverse()
        self.waiting_size = max(3, min(300, self.n // 500))
        self.waiting_pool: list[tuple[Any, ...]] = []
        self.waiting_seen = 0
        step = max(1, self.n // 10)
        for i in range(self.n):
            self.person()
            if (i + 1) % step == 0 or i + 1 == self.n:
                self.say(f"people: {i + 1:,} of {self.n:,} ({self.elapsed()})")

    def identity(self) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        gender = (
            Gender.MAN
            if r < 0.67
            else Gender.WOMAN
            if r < 0.965
            else Gender.NON_BINARY
            if r < 0.98
            else Gender.OTHER
            if r < 0.985
            else Gender.NOT_KNOWN
        )
        names = WOMEN if gender == Gender.WOMAN else MEN if gender == Gender.MAN else None
        given = rng.choice(names or rng.choice((WOMEN, MEN)))
        family = rng.choice(FAMILY)
        age = rng.triangular(19, 78, 38)
        born = self.today - datetime.timedelta(days=int(age * 365.25))
        alias = ""
        if rng.random() < 0.15:
            alias = (
                f"{given[:3]}{rng.choice(('zy', 'o', 'ie'))} {family}"
                if rng.random() < 0.6
                else f"{given} {rng.choice(FAMILY)}"
            )
        return {
            "given": given,
            "family": family,
            "alias": alias,
            "born": born if rng.random() < 0.97 else None,
            "nhs": (self.nhs.pop() if self.nhs else "") if rng.random() < 0.9 else "",
            "gender": gender,
            "gp": rng.choice(GP_PRACTICES),
        }

    def profile(self) -> dict[str, Any]:
        """MEAM domains, risks and where the person lives: consistent across their referrals."""
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), weights=(12, 38, 33, 17))[0]
        domains: set[str] = set()
        while len(domains) < count:
            domains.add(
                rng.choices(
                    ("homelessness", "substance_misuse", "offending", "mental_health"),
                    weights=(70, 70, 45, 65),
                )[0]
            )
        pool = [c for d in sorted(domains) for c in DOMAIN_RISKS[d]] + list(GENERAL_RISKS)
        categories: list[str] = []
        for _ in range(rng.choices((1, 2, 3), weights=(25, 45, 30))[0]):
            c = rng.choice(pool)
            if c not in categories:
                categories.append(c)
        risks = [
            (c, rng.choices(LEVELS, weights=(5, 17, 50, 28))[0], rng.choice(RISK_TEXT[c]))
            for c in categories
        ]
        homeless = "homelessness" in domains
        acc = AccommodationStatus
        living = rng.choices(
            (
                acc.NO_FIXED_ABODE,
                acc.HOSTEL,
                acc.EMERGENCY,
                acc.SOFA_SURFING,
                acc.SUPPORTED,
                acc.OWN_TENANCY,
                acc.CUSTODY,
                acc.HOSPITAL,
                acc.OTHER,
            ),
            weights=(30, 25, 15, 15, 5, 5, 3, 2, 0) if homeless else (2, 10, 2, 8, 20, 45, 5, 5, 7),
        )[0]
        reasons = [rng.choice(GENERAL_REASONS)]
        reasons.extend(rng.choice(DOMAIN_REASONS[d]) for d in sorted(domains) if rng.random() < 0.5)
        return {
            "domains": domains,
            "risks": risks,
            "living": living,
            "reasons": list(dict.fromkeys(reasons))[:3],
        }

    def pick_agency(self, involved: Sequence[int]) -> int:
        weights = [self.referrer_weight.get(a, 1.0) for a in involved]
        return self.rng.choices(involved, weights=weights)[0]

    def new_agency(self) -> int:
        agencies = [a for a, _ in self.involvable]
        weights = [p * self.referrer_weight.get(a, 1.0) for a, p in self.involvable]
        return self.rng.choices(agencies, weights=weights)[0]

    def person(self) -> None:
        rng = self.rng
        who = self.identity()
        prof = self.profile()
        pid, case_id = self.uid(), self.uid()
        last = self.span - 2  # the last day a referral can be decided on

        # When they were referred: a third come back through the revolving door.
        k = rng.choices((1, 2, 3, 4, 5), weights=(64, 19, 10, 5, 2))[0]
        first = int(last * rng.random() ** (0.75 if k == 1 else 1.6))
        days = [first]
        while len(days) < k:
            following = days[-1] + rng.randint(45, 400)
            if following > last:
                break
            days.append(following)
        k = len(days)
        first_accepted = 1 if k > 1 and rng.random() < 0.12 else 0
        rs = Referral.State
        states: list[str] = []
        for j in range(k):
            if j < first_accepted:
                states.append(rng.choices((rs.REDIRECTED, rs.DECLINED, rs.WITHDRAWN), (5, 4, 1))[0])
            elif j == first_accepted:
                states.append(rs.ACCEPTED)
            else:
                states.append(
                    rng.choices(
                        (rs.ACCEPTED, rs.REDIRECTED, rs.DECLINED, rs.WITHDRAWN), (72, 12, 10, 6)
                    )[0]
                )
        submitted = [self.work(self.day(d)) for d in days]
        decided: list[datetime.datetime] = []
        for j, d in enumerate(days):
            delay = min(int(rng.lognormvariate(1.3, 0.75)), last - d)
            moment = self.work(self.day(d + delay))
            if moment <= submitted[j]:
                moment = submitted[j] + datetime.timedelta(minutes=rng.randint(30, 240))
            decided.append(moment)

        # The case: opened at the first acceptance, closed and reopened in between.
        involved: list[int] = [self.chair_agency]
        for agency_id, share in self.involvable:
            if rng.random() < share:
                involved.append(agency_id)
        if len(involved) == 1:
            involved.append(self.new_agency())
        joined: dict[int, datetime.datetime] = {}
        accepted: list[_Accepted] = []
        closures: list[datetime.date] = []
        reopened = 0
        for j in range(k):
            if states[j] != rs.ACCEPTED:
                continue
            if accepted:
                gap = (decided[j].date() - accepted[-1].decided.date()).days
                if gap > 40 and rng.random() < 0.8:
                    closures.append(
                        accepted[-1].decided.date()
                        + datetime.timedelta(days=int(gap * rng.uniform(0.45, 0.85)))
                    )
                    reopened += 1
                agency = self.pick_agency(involved[1:]) if rng.random() < 0.7 else self.new_agency()
                if agency not in involved:
                    involved.append(agency)
            else:
                agency = self.pick_agency(involved)
            for a in involved:
                joined.setdefault(a, decided[j])
            accepted.append(
                _Accepted(
                    j, decided[j], rng.choice(self.practitioners[agency]), agency, tuple(involved)
                )
            )
        opened = accepted[0].decided
        final = accepted[-1].decided.date()
        age = (self.today - final).days
        cs, co = Case.State, Case.ClosureOutcome
        if final > self.last_csf:
            state = cs.AWAITING_FORUM if rng.random() < 0.85 else cs.ACTIVE
        else:
            weights = (60, 25, 15) if age < 180 else (25, 25, 50) if age < 540 else (6, 8, 86)
            state = rng.choices((cs.ACTIVE, cs.MONITORING, cs.CLOSED), weights)[0]
        closed_at = None
        outcome = ""
        if state == cs.CLOSED:
            low = min(45, age - 1)
            closed_day = final + datetime.timedelta(
                days=rng.randint(low, max(low, min(age - 1, 700)))
            )
            closed_at = self.work(closed_day)
            outcome = rng.choices(
                (
                    co.RISK_REDUCED,
                    co.RISK_UNCHANGED,
                    co.RISK_INCREASED,
                    co.LOST_TO_FOLLOW_UP,
                    co.DIED,
                    co.MOVED_AWAY,
                    co.OTHER,
                ),
                (42, 14, 5, 14, 4, 11, 10),
            )[0]
        end_day = closed_at.date() if closed_at else self.today
        if outcome in (co.RISK_REDUCED, co.RISK_UNCHANGED, co.RISK_INCREASED):
            direction = DIRECTION[outcome]
        elif state == cs.AWAITING_FORUM:
            direction = 0
        else:
            direction = rng.choices((-1, 0, 1), (55, 30, 15))[0]
        activity = [opened, accepted[-1].decided] + ([closed_at] if closed_at else [])

        # Assessments: at the start, then every few months while the case is open.
        assessments: list[tuple[datetime.datetime, uuid.UUID, int]] = []
        if state != cs.AWAITING_FORUM or rng.random() < 0.3:
            severity = [rng.choices((0, 1, 2, 3, 4), (5, 15, 30, 32, 18))[0] for _ in self.items]
            day = opened.date() + datetime.timedelta(days=rng.randint(-30, 20))
            for n in range(rng.choices((1, 2, 3), (45, 40, 15))[0]):
                if day >= self.today or day > end_day + datetime.timedelta(days=10):
                    break
                if n:
                    severity = [
                        max(0, min(4, s + rng.choice((-1, -1, 0)) if direction < 0 else s))
                        if direction <= 0
                        else min(4, s + (1 if rng.random() < 0.3 else 0))
                        for s in severity
                    ]
                    if direction == 0:
                        severity = [max(0, min(4, s + rng.choice((-1, 0, 0, 1)))) for s in severity]
                agency = rng.choice(involved)
                completed = self.work(day)
                aid = self.uid()
                total = sum(s * m for s, (_, m) in zip(severity, self.items, strict=True))
                self.t_assessment.add(
                    (
                        aid,
                        pid,
                        self.template,
                        Assessment.State.COMPLETED,
                        rng.choice(self.practitioners[agency]),
                        agency,
                        completed,
                        total,
                        self.max_score,
                        completed - datetime.timedelta(days=rng.randint(1, 10)),
                        completed,
                    )
                )
                for (item_id, _), score in zip(self.items, severity, strict=True):
                    self.t_answer.add((aid, item_id, score, ""))
                assessments.append((completed, aid, total))
                activity.append(completed)
                day += datetime.timedelta(days=rng.randint(120, 240))

        # Referrals, and the lawful basis each acceptance recorded.
        records: list[_Record] = []
        accepted_at = {acc.index: acc for acc in accepted}
        for j in range(k):
            acc = accepted_at.get(j)
            state_j = states[j]
            if acc is not None:
                agency, referrer, at_time = acc.agency, acc.referrer, list(acc.involved)
            else:
                pool = involved if j > first_accepted else None
                agency = self.pick_agency(pool) if pool else self.new_agency()
                referrer = rng.choice(self.practitioners[agency])
                at_time = [
                    self.chair_agency,
                    agency,
                    *rng.sample(involved[1:], min(len(involved) - 1, rng.randint(0, 2))),
                ]
            rid = self.uid()
            known = j >= first_accepted
            services = [x for x in dict.fromkeys(at_time) if x not in (agency, self.chair_agency)]
            basis = rng.choices(
                ("consent", "safeguarding", "vital_interests", "crime"), (72, 14, 7, 7)
            )[0]
            all_members = rng.random() < 0.55
            sharing = list(services)
            if not all_members and sharing and rng.random() < 0.12:
                sharing.remove(rng.choice(sharing))
            consent_on = (submitted[j] - datetime.timedelta(days=rng.randint(0, 6))).date()
            method = rng.choice(
                (ConsentMethod.WRITTEN, ConsentMethod.WRITTEN, ConsentMethod.VERBAL)
            )
            assessment = None
            if acc is not None:
                earlier = [x for x in assessments if x[0] < acc.decided]
                assessment = earlier[-1][1] if earlier else None
            decision_reason = redirect_destination = redirect_service = withdrawal = ""
            decided_at = decided_by = withdrawn_at = None
            if state_j == rs.WITHDRAWN:
                withdrawn_at = decided[j]
                withdrawal = rng.choice(WITHDRAW_REASONS)
            else:
                decided_at, decided_by = decided[j], self.chair.pk
                if state_j == rs.DECLINED:
                    decision_reason = rng.choice(DECLINE_REASONS)
                elif state_j == rs.REDIRECTED:
                    decision_reason = rng.choice(REDIRECT_ADVICE)
                    if rng.random() < 0.3:
                        redirect_destination = Referral.RedirectDestination.NAMED_SERVICE
                        redirect_service = rng.choice(REDIRECT_SERVICES)
                    else:
                        redirect_destination = Referral.RedirectDestination.PRACTITIONER_FORUM
            self.referral(
                who,
                prof,
                id=rid,
                state=state_j,
                referrer_id=referrer,
                referring_agency_id=agency,
                person_id=pid if known else None,
                lawful_basis=basis,
                consent_method=method if basis == "consent" else "",
                consent_given_on=consent_on if basis == "consent" else None,
                consent_person_informed=basis == "consent",
                basis_justification="" if basis == "consent" else JUSTIFICATIONS[basis],
                sharing_all_members=all_members,
                submitted_at=submitted[j],
                decided_at=decided_at,
                decided_by_id=decided_by,
                decision_reason=decision_reason,
                redirect_destination=redirect_destination,
                redirect_service=redirect_service,
                withdrawn_at=withdrawn_at,
                withdrawal_reason=withdrawal,
                case_id=case_id if acc is not None else None,
                assessment_id=assessment,
                is_repeat=acc is not None and j > first_accepted,
                created_at=submitted[j] - datetime.timedelta(hours=rng.randint(1, 72)),
                updated_at=decided[j],
                services=services,
                sharing=[] if all_members else sharing,
            )
            if acc is None:
                continue
            # Accepting records the lawful basis: the agencies named, the referrer, the forum.
            covered = frozenset(sharing) | {agency, self.chair_agency}
            day = acc.decided.date()
            if basis == "consent":
                records.append(
                    _Record(
                        True,
                        self.uid(),
                        min(consent_on, day),
                        day + datetime.timedelta(days=365),
                        all_members,
                        covered,
                        {"method": method, "recorded_by": referrer, "at": acc.decided},
                    )
                )
            else:
                records.append(
                    _Record(
                        False,
                        self.uid(),
                        day,
                        day + datetime.timedelta(days=182),
                        all_members,
                        covered,
                        {"basis": basis, "requested_by": referrer, "at": acc.decided},
                    )
                )

        # Consent today: most people's is current (renewed at review); some withdrew, some lapsed.
        r = rng.random()
        lapsed = r < 0.07 and age > 366
        withdrawn = 0.07 <= r < 0.12
        if not lapsed and not any(x.current(self.today) for x in records):
            since = max(final, self.today - datetime.timedelta(days=330))
            given = since + datetime.timedelta(days=rng.randint(0, (self.today - since).days - 1))
            renewal_all = rng.random() < 0.6
            scope = frozenset(involved)
            if not renewal_all and len(involved) > 2 and rng.random() < 0.1:
                scope = scope - {rng.choice(involved[1:])}
            agency = rng.choice(involved)
            records.append(
                _Record(
                    True,
                    self.uid(),
                    given,
                    given + datetime.timedelta(days=365),
                    renewal_all,
                    scope,
                    {
                        "method": rng.choice(CONSENT_METHODS),
                        "recorded_by": rng.choice(self.practitioners[agency]),
                        "at": self.work(given),
                    },
                )
            )
        if withdrawn:
            for x in records:
                if x.current(self.today):
                    room = (self.today - x.starts).days
                    x.stopped = self.work(
                        x.starts + datetime.timedelta(days=rng.randint(1, max(1, room)))
                    )
                    if x.stopped.date() < x.starts or x.stopped.date() >= self.today:
                        x.stopped = self.at(self.today - datetime.timedelta(days=1), 600)
        current = [x for x in records if x.current(self.today)]
        for x in records:
            self.write_record(x, pid)

        # Involvement: the permission, and the list index where consent covers the agency.
        for agency_id in involved:
            worker = None
            role = "Already involved"
            if agency_id == self.chair_agency:
                role, worker = "Forum chair", self.chair.pk
            elif agency_id == accepted[0].agency:
                role, worker = "Referrer", accepted[0].referrer
            elif rng.random() < 0.4:
                worker = rng.choice(self.practitioners[agency_id])
            since = joined[agency_id]
            self.t_involved.add(
                (case_id, agency_id, role, worker, since, "", "", "", 0, since, since)
            )
            self.t_perm.add((self.view_case, self.group_of[agency_id], case_id))

        # Risks, their owners and their levels over time.
        risks: list[tuple[uuid.UUID, str, str]] = []  # (id, category, level now)
        for n, (category, level, text) in enumerate(prof["risks"]):
            created = opened + datetime.timedelta(minutes=n)
            now_level = level
            if direction < 0:
                now_level = LEVELS[max(0, LEVEL_INDEX[level] - rng.choice((1, 1, 2)))]
            elif direction > 0 and n == 0:
                now_level = LEVELS[min(3, LEVEL_INDEX[level] + 1)]
            status = Risk.Status.OPEN
            if direction < 0 and rng.random() < (0.5 if state == cs.CLOSED else 0.25):
                status = Risk.Status.CLOSED
            risk_id = self.uid()
            changed = now_level != level
            change_at = None
            if changed:
                change_at = self.work(
                    opened.date()
                    + datetime.timedelta(
                        days=rng.randint(20, max(21, (end_day - opened.date()).days))
                    )
                )
                if change_at <= created:
                    change_at = created + datetime.timedelta(hours=1)
            self.t_risk.add(
                (
                    risk_id,
                    case_id,
                    category,
                    now_level,
                    level,
                    text,
                    rng.choice(MITIGATIONS),
                    status,
                    2 if changed else 1,
                    created,
                    change_at or created,
                    (change_at or created) if status == Risk.Status.CLOSED else None,
                    now_level if status == Risk.Status.CLOSED else "",
                    "Resolved: agreed by its owners" if status == Risk.Status.CLOSED else "",
                )
            )
            self.t_level.add((risk_id, level, created, self.chair.pk))
            owners = [a for a in involved if any(a in x.agencies or x.all_members for x in current)]
            high = LEVEL_INDEX[level] >= 2
            if len(owners) < (2 if high else 1):
                owners = list(involved)  # a high risk is shared by two agencies at least
            wanted = 2 if high else 1
            wanted = min(len(owners), wanted + (1 if rng.random() < 0.3 else 0))
            first_owner = accepted[0].agency if accepted[0].agency in owners else owners[0]
            chosen = [first_owner, *rng.sample([a for a in owners if a != first_owner], wanted - 1)]
            accept_at = created
            for owner_agency in chosen:
                accept_at = accept_at + datetime.timedelta(hours=rng.randint(1, 240))
                if accept_at.date() >= self.today:
                    accept_at = created
                self.t_owner.add(
                    (
                        risk_id,
                        owner_agency,
                        rng.choice(self.practitioners[owner_agency]),
                        accept_at,
                        accept_at,
                        accept_at,
                    )
                )
            if change_at is not None:
                self.t_level.add(
                    (risk_id, now_level, change_at, rng.choice(self.practitioners[chosen[0]]))
                )
                activity.append(change_at)
            risks.append((risk_id, category, now_level if status == Risk.Status.OPEN else ""))
        for acc in accepted[1:]:
            if rng.random() < 0.3:  # a new risk the repeat referral brought
                category = rng.choice(GENERAL_RISKS)
                level = rng.choice((L.HIGH, L.VERY_HIGH))
                risk_id = self.uid()
                self.t_risk.add(
                    (
                        risk_id,
                        case_id,
                        category,
                        level,
                        level,
                        rng.choice(RISK_TEXT[category]),
                        "",
                        Risk.Status.OPEN,
                        1,
                        acc.decided,
                        acc.decided,
                        None,
                        "",
                        "",
                    )
                )
                self.t_level.add((risk_id, level, acc.decided, self.chair.pk))
                for owner_agency in dict.fromkeys((acc.agency, self.chair_agency)):
                    self.t_owner.add(
                        (
                            risk_id,
                            owner_agency,
                            acc.referrer
                            if owner_agency == acc.agency
                            else rng.choice(self.practitioners[owner_agency]),
                            acc.decided,
                            acc.decided,
                            acc.decided,
                        )
                    )
                risks.append((risk_id, category, level))

        # Care plans: agreed at the forum, a new version every few months while open.
        if state != cs.AWAITING_FORUM:
            versions: list[tuple[datetime.datetime, uuid.UUID]] = []
            day = opened.date()
            while len(versions) < 4:
                found = self.meeting_after(day)
                if found is None or found[0] > end_day:
                    break
                versions.append((self.at(found[0], 12 * 60 + rng.randint(0, 30)), found[1]))
                day = found[0] + datetime.timedelta(days=rng.randint(90, 210))
            drafting = state != cs.CLOSED and (not versions or rng.random() < 0.2)
            for number, (agreed, meeting_id) in enumerate(versions, start=1):
                plan_state = (
                    CarePlan.State.AGREED if number == len(versions) else CarePlan.State.SUPERSEDED
                )
                self.plan(case_id, number, plan_state, agreed, meeting_id, involved, created=agreed)
                activity.append(agreed)
            if drafting:
                created = self.work(
                    max(opened.date(), versions[-1][0].date() if versions else opened.date())
                    + datetime.timedelta(days=rng.randint(1, 20))
                )
                self.plan(
                    case_id,
                    len(versions) + 1,
                    CarePlan.State.DRAFT,
                    None,
                    None,
                    involved,
                    created=created,
                )

        # Outcome reviews: the period before the forum, then every three months.
        if state != cs.AWAITING_FORUM and rng.random() < 0.8:
            self.reviews(
                case_id,
                opened.date(),
                end_day,
                direction,
                prof,
                involved,
                risks,
                assessments,
                activity,
            )

        if state != cs.AWAITING_FORUM and rng.random() < 0.006:
            others = [a for a in involved if a != self.chair_agency]
            agency = rng.choice(others)
            at = self.work(opened.date() + datetime.timedelta(days=rng.randint(30, 200)))
            if at.date() < self.today:
                self.t_handoff.add(
                    (
                        case_id,
                        agency,
                        HandOffAttempt.Kind.LEAVE_CASE,
                        rng.choice(self.practitioners[agency]),
                        at,
                    )
                )

        # The person, the case and what each agency's list shows.
        last_activity = max(x for x in activity if x is not None)
        if last_activity.date() >= self.today:
            last_activity = self.at(self.today - datetime.timedelta(days=1), 1020)
        living = prof["living"]
        if direction < 0 and rng.random() < 0.55:
            living = rng.choice((AccommodationStatus.OWN_TENANCY, AccommodationStatus.SUPPORTED))
        self.t_person.add(
            (
                pid,
                who["given"],
                who["family"],
                who["alias"],
                who["born"],
                who["nhs"],
                who["gender"],
                living,
                who["gp"],
                opened,
                last_activity,
            )
        )
        self.t_case.add(
            (case_id, pid, state, opened, closed_at, outcome, reopened, opened, last_activity)
        )
        for agency_id in involved:
            covering = [x for x in current if x.all_members or agency_id in x.agencies]
            if covering:
                since = min(x.starts for x in covering)
                until = max(x.until for x in covering)
                self.t_visible.add(
                    (agency_id, case_id, pid, last_activity, joined[agency_id], since, until)
                )

        # Candidates for agendas and for the triage queue.
        for acc in accepted:
            day = acc.decided.date()
            lo = bisect.bisect_left(self.csf_plan_days, day + datetime.timedelta(days=2))
            hi = bisect.bisect_right(self.csf_plan_days, day + datetime.timedelta(days=60))
            for plan in self.csf_plans[lo:hi]:
                if any(day < c <= plan.day for c in closures) or (
                    closed_at is not None and closed_at.date() <= plan.day
                ):
                    continue
                plan.seen += 1
                entry = (case_id, acc.referrer, acc.involved, acc.decided)
                if len(plan.cases) < plan.wanted:
                    plan.cases.append(entry)
                else:
                    slot = rng.randrange(plan.seen)
                    if slot < plan.wanted:
                        plan.cases[slot] = entry
        if days[-1] < self.span - 30:
            self.waiting_seen += 1
            candidate = (pid, who, prof, tuple(involved))
            if len(self.waiting_pool) < self.waiting_size:
                self.waiting_pool.append(candidate)
            else:
                slot = rng.randrange(self.waiting_seen)
                if slot < self.waiting_size:
                    self.waiting_pool[slot] = candidate

    def write_record(self, x: _Record, pid: uuid.UUID) -> None:
        rng = self.rng
        at = x.fields["at"]
        if x.consent:
            lacks = rng.random() < 0.05
            self.t_consent.add(
                (
                    x.pk,
                    pid,
                    x.all_members,
                    [ConsentPurpose.REFERRAL.value, ConsentPurpose.CARE_PLANNING.value],
                    x.fields["method"],
                    x.starts,
                    x.fields["recorded_by"],
                    lacks or rng.random() < 0.3,
                    CapacityOutcome.LACKS_CAPACITY
                    if lacks
                    else rng.choice((CapacityOutcome.NOT_IN_DOUBT, CapacityOutcome.HAS_CAPACITY)),
                    x.until,
                    x.stopped,
                    self.chair.pk if x.stopped else None,
                    "The person asked for sharing to stop." if x.stopped else "",
                    at,
                    x.stopped or at,
                )
            )
            if not x.all_members:
                for agency_id in sorted(x.agencies):
                    self.t_consent_agencies.add((x.pk, agency_id))
        else:
            self.t_basis.add(
                (
                    x.pk,
                    pid,
                    x.fields["basis"],
                    JUSTIFICATIONS[x.fields["basis"]],
                    x.all_members,
                    SharingBasis.Status.APPROVED.value,
                    x.fields["requested_by"],
                    at,
                    self.chair.pk,
                    at,
                    "Forum chair",
                    x.starts,
                    x.until,
                    x.stopped,
                    self.chair.pk if x.stopped else None,
                    at,
                    x.stopped or at,
                )
            )
            if not x.all_members:
                for agency_id in sorted(x.agencies):
                    self.t_basis_agencies.add((x.pk, agency_id))

    def plan(
        self,
        case_id: uuid.UUID,
        number: int,
        state: str,
        agreed: datetime.datetime | None,
        meeting_id: uuid.UUID | None,
        involved: Sequence[int],
        *,
        created: datetime.datetime,
    ) -> None:
        rng = self.rng
        plan_id = self.uid()
        self.t_plan.add(
            (
                plan_id,
                case_id,
                number,
                state,
                rng.choice(PLAN_SUMMARIES),
                agreed,
                meeting_id,
                self.chair.pk if agreed else None,
                created - datetime.timedelta(days=rng.randint(3, 12)),
                created,
            )
        )
        for order in range(1, rng.randint(2, 4) + 1):
            agency = rng.choice(involved)
            by_when = created.date() + datetime.timedelta(days=rng.randint(14, 90))
            worker = rng.choice(self.practitioners[agency]) if rng.random() < 0.5 else None
            self.t_plan_item.add((plan_id, rng.choice(PLAN_ITEMS), agency, worker, by_when, order))

    def reviews(
        self,
        case_id: uuid.UUID,
        opened: datetime.date,
        end: datetime.date,
        direction: int,
        prof: dict[str, Any],
        involved: Sequence[int],
        risks: Sequence[tuple[uuid.UUID, str, str]],
        assessments: Sequence[tuple[datetime.datetime, uuid.UUID, int]],
        activity: list[datetime.datetime],
    ) -> None:
        rng = self.rng
        domains = prof["domains"]
        base = {
            "police": rng.randint(2, 15) if "offending" in domains else rng.randint(0, 5),
            "ambulance": rng.randint(1, 8)
            if domains & {"substance_misuse", "mental_health"}
            else rng.randint(0, 3),
            "ae": rng.randint(0, 10),
            "admissions": rng.randint(0, 3),
            "bnb": rng.choice((0, 0, 7, 14, 21, 30, 45)) if "homelessness" in domains else 0,
        }
        factor = {-1: rng.uniform(0.1, 0.5), 0: rng.uniform(0.75, 1.1), 1: rng.uniform(1.1, 1.6)}[
            direction
        ]
        periods = [(opened - datetime.timedelta(days=91), opened - datetime.timedelta(days=1))]
        follow = 0
        while True:
            start = opened + datetime.timedelta(days=91 * follow)
            stop = start + datetime.timedelta(days=90)
            if stop >= end or stop >= self.today - datetime.timedelta(days=7):
                break
            follow += 1
        picks = (
            list(range(follow)) if follow <= 4 else [round(follow * q / 4) - 1 for q in range(1, 5)]
        )
        for p in picks:
            start = opened + datetime.timedelta(days=91 * p)
            periods.append((start, start + datetime.timedelta(days=90)))
        acc = AccommodationStatus
        answer = OutcomeReview.Answer
        living = prof["living"]
        for n, (start, stop) in enumerate(periods):
            recorded_day = max(stop, opened) + datetime.timedelta(days=rng.randint(5, 20))
            if recorded_day >= self.today:
                recorded_day = self.today - datetime.timedelta(days=1)
            recorded = self.work(recorded_day)
            share = n / max(1, len(periods) - 1)
            scale = 1 + (factor - 1) * share
            counts = {
                key: round(value * scale * rng.uniform(0.8, 1.2)) for key, value in base.items()
            }
            if direction < 0 and share > 0.5 and rng.random() < 0.55:
                living = rng.choice((acc.OWN_TENANCY, acc.SUPPORTED))
            settled = living in (acc.OWN_TENANCY, acc.SUPPORTED)
            score = None
            for completed, _, total in assessments:
                if completed <= recorded:
                    score = total
            avoidable = rng.choices((answer.YES, answer.NO, answer.UNSURE), (38, 42, 20))[0]
            levels = [
                {"risk": str(risk_id), "category": category, "level": level}
                for risk_id, category, level in risks
                if level
            ]
            agency = rng.choice(involved)
            self.t_review.add(
                (
                    self.uid(),
                    case_id,
                    start,
                    stop,
                    counts["police"],
                    counts["ambulance"],
                    counts["ae"],
                    counts["admissions"],
                    counts["bnb"],
                    living,
                    rng.choices(
                        (answer.YES, answer.NO, answer.UNSURE),
                        (75, 10, 15) if settled else (10, 60, 30),
                    )[0],
                    levels,
                    score,
                    avoidable,
                    rng.choice(AVOIDABLE_NOTES)
                    if avoidable == answer.YES and rng.random() < 0.4
                    else "",
                    rng.choice(self.practitioners[agency]),
                    recorded,
                    recorded,
                )
            )
            activity.append(recorded)

    # --- referrals -------------------------------------------------------------------------------

    def referral(
        self,
        who: dict[str, Any],
        prof: dict[str, Any],
        *,
        services: Sequence[int],
        sharing: Sequence[int],
        **values: Any,
    ) -> None:
        """One referral row with its reasons, services, sharing agencies and risks."""
        rng = self.rng
        domains = prof["domains"]
        row = {
            **_referral_blank(),
            "given_name": who["given"],
            "family_name": who["family"],
            "other_names": who["alias"],
            "date_of_birth": who["born"],
            "nhs_number": who["nhs"],
            "gender": who["gender"],
            "accommodation_status": prof["living"],
            "gp_practice": who["gp"],
            "match_key": self.match_key(who["born"], who["family"]),
            "meam_homelessness": "homelessness" in domains,
            "meam_substance_misuse": "substance_misuse" in domains,
            "meam_offending": "offending" in domains,
            "meam_mental_health": "mental_health" in domains,
            "reason_other": (
                "Refused by every service we have tried" if "other" in prof["reasons"] else ""
            ),
            "tried_so_far": rng.choice(TRIED),
            "hoped_outcome": rng.choice(HOPED),
            "urgency": rng.choices(URGENCIES, (55, 38, 7))[0],
        }
        row.update(values)
        self.t_referral.add(tuple(row[name] for name in REFERRAL_FIELDS))
        rid = row["id"]
        for code in prof["reasons"]:
            self.t_reasons.add((rid, self.reasons[code]))
        for agency_id in services:
            self.t_services.add((rid, agency_id))
        for agency_id in sharing:
            self.t_sharing.add((rid, agency_id))
        when = row["submitted_at"] or row["created_at"]
        for category, level, text in prof["risks"]:
            self.t_referral_risk.add((rid, category, level, text, when))

    def extra_referrals(self) -> None:
        """Referrals about people the forum never took on, the triage queue, and drafts."""
        rng = self.rng
        rs = Referral.State
        last = self.span - 2
        for _ in range(self.n // 20):
            who, prof = self.identity(), self.profile()
            agency = self.new_agency()
            day = rng.randint(0, last)
            submitted = self.work(self.day(day))
            decided = max(
                self.work(self.day(min(last, day + int(rng.lognormvariate(1.3, 0.75))))),
                submitted + datetime.timedelta(minutes=45),
            )
            state = rng.choices((rs.REDIRECTED, rs.DECLINED, rs.WITHDRAWN), (5, 4, 1))[0]
            services = rng.sample([a for a, _ in self.involvable if a != agency], 2)
            self.referral(
                who,
                prof,
                services=services,
                sharing=[],
                id=self.uid(),
                state=state,
                referrer_id=rng.choice(self.practitioners[agency]),
                referring_agency_id=agency,
                person_id=None,
                lawful_basis=Referral.LawfulBasis.CONSENT,
                consent_method=Referral.ConsentMethod.WRITTEN,
                consent_given_on=submitted.date(),
                consent_person_informed=True,
                sharing_all_members=True,
                submitted_at=submitted,
                decided_at=decided if state != rs.WITHDRAWN else None,
                decided_by_id=self.chair.pk if state != rs.WITHDRAWN else None,
                decision_reason=(
                    rng.choice(DECLINE_REASONS)
                    if state == rs.DECLINED
                    else rng.choice(REDIRECT_ADVICE)
                    if state == rs.REDIRECTED
                    else ""
                ),
                redirect_destination=(
                    Referral.RedirectDestination.PRACTITIONER_FORUM
                    if state == rs.REDIRECTED
                    else ""
                ),
                withdrawn_at=decided if state == rs.WITHDRAWN else None,
                withdrawal_reason=rng.choice(WITHDRAW_REASONS) if state == rs.WITHDRAWN else "",
                created_at=submitted - datetime.timedelta(hours=rng.randint(1, 48)),
                updated_at=decided,
            )
        # Waiting for triage: about half are people the forum knows (the revolving door).
        waiting = max(5, min(400, self.n // 250))
        known = self.waiting_pool[: waiting // 2]
        for n in range(waiting):
            if n < len(known):
                pid, who, prof, involved = known[n]
                agency = self.pick_agency(list(involved[1:]) or list(involved))
            else:
                pid, who, prof = None, self.identity(), self.profile()
                agency = self.new_agency()
                involved = (self.chair_agency, agency)
            submitted = self.work(self.today - datetime.timedelta(days=rng.randint(1, 21)))
            services = [a for a in involved if a not in (agency, self.chair_agency)]
            self.referral(
                who,
                prof,
                services=services,
                sharing=[],
                id=self.uid(),
                state=rs.SUBMITTED,
                referrer_id=rng.choice(self.practitioners[agency]),
                referring_agency_id=agency,
                # Submitting links a known NHS number to the person, as referral_submit does.
                person_id=pid if pid is not None and who["nhs"] else None,
                lawful_basis=Referral.LawfulBasis.CONSENT,
                consent_method=Referral.ConsentMethod.VERBAL,
                consent_given_on=submitted.date(),
                consent_person_informed=True,
                sharing_all_members=True,
                submitted_at=submitted,
                created_at=submitted - datetime.timedelta(hours=rng.randint(1, 48)),
                updated_at=submitted,
            )
        # Drafts: started, not yet submitted.
        for _ in range(max(2, self.n // 300)):
            who, prof = self.identity(), self.profile()
            agency = self.new_agency()
            started = self.work(self.today - datetime.timedelta(days=rng.randint(1, 40)))
            self.referral(
                who,
                prof,
                services=[],
                sharing=[],
                id=self.uid(),
                state=rs.DRAFT,
                referrer_id=rng.choice(self.practitioners[agency]),
                referring_agency_id=agency,
                person_id=None,
                created_at=started,
                updated_at=started,
            )
        self.say(
            f"referrals: {self.n // 20:,} about people not taken on, {waiting} waiting for "
            f"triage, drafts ({self.elapsed()})"
        )

    # --- the forums' five years ------------------------------------------------------------

    def forums(self) -> None:
        from demo.cases import CSF_LOCATION, SOG_LOCATION

        self.t_meeting = self.table(
            Meeting,
            "id",
            "forum_id",
            "starts_at",
            "ends_at",
            "location",
            "chair_id",
            "state",
            "agenda_published_at",
            "access_ends_at",
            "minutes_approved_at",
            "minutes_approved_by_id",
            "created_at",
            "updated_at",
        )
        self.t_item = self.table(
            AgendaItem,
            "id",
            "meeting_id",
            "order",
            "case_id",
            "topic",
            "system_issue_id",
            "starts_at",
            "minutes_allowed",
            "presenter_id",
            "minutes",
            "minutes_version",
            "created_at",
            "updated_at",
        )
        self.t_invite = self.table(
            Invitation, "item_id", "agency_id", "invited_by_id", "invited_at"
        )
        self.t_attend = self.table(
            Attendance,
            "meeting_id",
            "user_id",
            "agency_id",
            "item_id",
            "status",
            "recorded_by_id",
            "recorded_at",
        )
        self.t_decision = self.table(
            ForumDecision,
            "id",
            "meeting_id",
            "item_id",
            "case_id",
            "kind",
            "summary",
            "decided_by_id",
            "decided_at",
            "created_at",
            "updated_at",
        )
        self.t_action = self.table(
            Action,
            "id",
            "forum_id",
            "meeting_id",
            "item_id",
            "case_id",
            "system_issue_id",
            "description",
            "owner_agency_id",
            "owner_id",
            "due_on",
            "status",
            "status_reason",
            "last_update_note",
            "last_updated_at",
            "completed_on",
            "version",
            "created_at",
            "updated_at",
        )
        self.t_issue = self.table(
            SystemIssue,
            "id",
            "title",
            "description",
            "theme",
            "status",
            "recommendation",
            "raised_by_id",
            "raised_from_id",
            "version",
            "created_at",
            "updated_at",
        )
        self.t_issue_cases = self.table(SystemIssue.cases.through, "systemissue_id", "case_id")
        self.discussed: list[uuid.UUID] = []
        # System issues: (id, raised on, settled on or None)
        self.issues: list[tuple[uuid.UUID, datetime.date, datetime.date | None]] = []
        csf_member_agencies = {a for _, a in self.members[Forum.Kind.CSF]} | {self.chair_agency}
        for plan in self.plans:
            forum = self.forum_of[plan.forum]
            approved = self.next_start.get(plan.pk)
            approved = (
                approved + datetime.timedelta(minutes=10)
                if approved is not None
                else plan.starts + datetime.timedelta(days=28)
            )
            approved = min(approved, self.at(self.today - datetime.timedelta(days=1), 600))
            csf = plan.forum == Forum.Kind.CSF
            self.t_meeting.add(
                (
                    plan.pk,
                    forum.pk,
                    plan.starts,
                    plan.ends,
                    CSF_LOCATION if csf else SOG_LOCATION,
                    self.chair.pk,
                    Meeting.State.MINUTES_APPROVED,
                    self.at(plan.day - datetime.timedelta(days=7), 16 * 60 + 5),
                    self.at(plan.day, 23 * 60 + 59),
                    approved,
                    self.chair.pk,
                    plan.starts - datetime.timedelta(days=35),
                    approved,
                )
            )
            if csf:
                self.csf_meeting(plan, csf_member_agencies)
            else:
                self.sog_meeting(plan)
        self.say(
            f"forums: {len(self.plans)} meetings with agendas, minutes and actions; "
            f"{len(self.issues)} system issues ({self.elapsed()})"
        )

    def _slots(self, count: int, hour: int) -> list[tuple[datetime.time, int]]:
        length = 20 if count >= 5 else 25 if count == 4 else 30
        slots = []
        minute = hour * 60
        for _ in range(count):
            slots.append((datetime.time(minute // 60, minute % 60), length))
            minute += length
        return slots

    def _attendance(self, plan: _MeetingPlan, apologies: int) -> set[int]:
        """Whole-meeting rows: the chair and the standing members (some send apologies)."""
        rng = self.rng
        members = self.members[plan.forum]
        away = set(rng.sample(range(len(members)), min(apologies, len(members))))
        recorded = plan.starts + datetime.timedelta(minutes=2)
        rows = [(self.chair.pk, self.chair_agency, False)] + [
            (user, agency, i in away) for i, (user, agency) in enumerate(members)
        ]
        for user, agency, apologised in rows:
            status = Attendance.Status.APOLOGIES if apologised else Attendance.Status.PRESENT
            self.t_attend.add((plan.pk, user, agency, None, status, self.chair.pk, recorded))
        return {user for user, _, _ in rows}

    def _action(
        self,
        plan: _MeetingPlan,
        item_id: int,
        *,
        case_id: uuid.UUID | None,
        issue_id: uuid.UUID | None,
        description: str,
        owner: int,
        due_days: tuple[int, int],
    ) -> None:
        rng = self.rng
        created = self.at(plan.day + datetime.timedelta(days=1), 11 * 60 + rng.randint(0, 90))
        due = plan.day + datetime.timedelta(days=rng.randint(*due_days))
        today = self.today
        if due < today - datetime.timedelta(days=90):
            weights = (6, 4, 84, 6)
        elif due < today:
            weights = (25, 15, 55, 5)
        else:
            weights = (55, 35, 10, 0)
        acts = Action.Status
        status = rng.choices((acts.OPEN, acts.IN_PROGRESS, acts.DONE, acts.DROPPED), weights)[0]
        reason = note = ""
        updated = completed = None
        version = 1
        latest = today - datetime.timedelta(days=1)
        if status == acts.DONE:
            completed = min(
                latest, max(created.date(), due + datetime.timedelta(days=rng.randint(-25, 20)))
            )
            updated, note, version = self.at(completed, 15 * 60), rng.choice(ACTION_NOTES[:3]), 2
        elif status == acts.DROPPED:
            day = min(latest, created.date() + datetime.timedelta(days=rng.randint(7, 60)))
            reason = note = rng.choice(DROP_REASONS)
            updated, version = self.at(day, 15 * 60), 2
        elif status == acts.IN_PROGRESS:
            day = min(latest, created.date() + datetime.timedelta(days=rng.randint(7, 40)))
            updated, note, version = self.at(day, 14 * 60), ACTION_NOTES[3], 2
        self.t_action.add(
            (
                self.uid(),
                self.forum_of[plan.forum].pk,
                plan.pk,
                item_id,
                case_id,
                issue_id,
                description,
                self.user_agency[owner],
                owner,
                due,
                status,
                reason,
                note,
                updated,
                completed,
                version,
                created,
                updated or created,
            )
        )

    def csf_meeting(self, plan: _MeetingPlan, member_agencies: set[int]) -> None:
        rng = self.rng
        cases = sorted(plan.cases, key=lambda c: c[3])
        topics = list(CSF_TOPICS[: max(0, 3 - len(cases))])
        slots = self._slots(len(cases) + len(topics), 10)
        built = self.at(plan.day - datetime.timedelta(days=9), 15 * 60 + 20)
        typed = self.at(plan.day + datetime.timedelta(days=1), 11 * 60)
        members = self._attendance(plan, rng.choice((1, 2, 2)))
        case_items: list[tuple[int, uuid.UUID]] = []
        entries: list[tuple[Any, ...] | None] = [None] * len(topics)
        entries += cases
        for order, (slot, entry) in enumerate(zip(slots, entries, strict=True), start=1):
            item_id = self.next_item
            self.next_item += 1
            if entry is None:
                topic = topics[order - 1]
                self.t_item.add(
                    (
                        item_id,
                        plan.pk,
                        order,
                        None,
                        topic,
                        None,
                        slot[0],
                        slot[1],
                        self.chair.pk,
                        "The forum reviewed this together and agreed the learning.",
                        1,
                        built,
                        typed,
                    )
                )
                continue
            case_id, presenter, involved, _ = entry
            invited = [a for a in involved if a not in member_agencies and a != self.gp_agency]
            invited = rng.sample(invited, min(len(invited), rng.randint(1, 3)))
            names = ", ".join(self.agency_name[a] for a in involved if a != self.chair_agency)
            minutes = " ".join(
                (
                    rng.choice(CSF_MINUTES_OPENING),
                    f"{self.agency_name[self.user_agency[presenter]]} presented.",
                    f"Known to these services: {names}.",
                    rng.choice(CSF_MINUTES_AGREED),
                )
            )
            self.t_item.add(
                (
                    item_id,
                    plan.pk,
                    order,
                    case_id,
                    "",
                    None,
                    slot[0],
                    slot[1],
                    presenter,
                    minutes,
                    1,
                    built,
                    typed,
                )
            )
            case_items.append((item_id, case_id))
            self.discussed.append(case_id)
            item_start = self.at(plan.day, slot[0].hour * 60 + slot[0].minute)
            here = set(members)
            for agency in invited:
                self.t_invite.add((item_id, agency, self.chair.pk, built))
                user = rng.choice(self.practitioners.get(agency) or self.staff[agency])
                if user not in here and rng.random() < 0.85:
                    here.add(user)
                    self.t_attend.add(
                        (plan.pk, user, agency, item_id, "present", self.chair.pk, item_start)
                    )
            if presenter not in here:
                self.t_attend.add(
                    (
                        plan.pk,
                        presenter,
                        self.user_agency[presenter],
                        item_id,
                        "present",
                        self.chair.pk,
                        item_start,
                    )
                )
            if rng.random() < 0.4:
                decided = item_start + datetime.timedelta(minutes=slot[1] - 2)
                self.t_decision.add(
                    (
                        self.uid(),
                        plan.pk,
                        item_id,
                        case_id,
                        ForumDecision.Kind.OTHER,
                        rng.choice(DECISIONS),
                        self.chair.pk,
                        decided,
                        decided,
                        decided,
                    )
                )
            for _ in range(rng.choices((2, 3, 4, 5), (20, 35, 30, 15))[0]):
                agency = rng.choice([a for a in involved if a != self.chair_agency] or involved)
                self._action(
                    plan,
                    item_id,
                    case_id=case_id,
                    issue_id=None,
                    description=rng.choice(CASE_ACTIONS),
                    owner=rng.choice(self.practitioners[agency]),
                    due_days=(14, 56),
                )
        # Case learning the forum escalates to the SOG.
        for _ in range(rng.choices((0, 1, 2), (25, 60, 15))[0]):
            if not case_items:
                break
            item_id, case_id = rng.choice(case_items)
            self.issue(
                typed + datetime.timedelta(minutes=45),
                raised_by=self.chair.pk,
                raised_from=item_id,
                cases=[case_id],
            )

    def issue(
        self,
        at: datetime.datetime,
        *,
        raised_by: int,
        raised_from: int | None,
        cases: list[uuid.UUID],
    ) -> None:
        rng = self.rng
        theme = rng.choice(SystemIssue.Theme.values)
        title = rng.choice(ISSUE_TITLES[theme]) + rng.choice(ISSUE_PLACES)
        settled_after = rng.randint(90, 420)
        settled: datetime.date | None = at.date() + datetime.timedelta(days=settled_after)
        iss = SystemIssue.Status
        if settled is not None and settled < self.today:
            status = rng.choices(
                (iss.RESOLVED, iss.CLOSED, iss.WITH_COMMISSIONERS, iss.IN_PROGRESS),
                (50, 15, 25, 10),
            )[0]
            if status == iss.IN_PROGRESS:
                settled = None
        else:
            status, settled = rng.choice((iss.OPEN, iss.IN_PROGRESS)), None
        issue_id = self.uid()
        updated = self.at(settled, 12 * 60) if settled else at
        earlier = [c for c in self.discussed[-60:] if c not in cases]
        cases = cases + rng.sample(earlier, min(len(earlier), rng.randint(0, 2)))
        self.t_issue.add(
            (
                issue_id,
                title,
                f"Case learning shows a gap in the system: {title[0].lower()}{title[1:]}. "
                "It keeps coming back at the forum and no single service can fix it.",
                theme,
                status,
                rng.choice(RECOMMENDATIONS) if status == iss.WITH_COMMISSIONERS else "",
                raised_by,
                raised_from,
                1 if status == iss.OPEN else rng.randint(2, 4),
                at,
                updated,
            )
        )
        for case_id in dict.fromkeys(cases):
            self.t_issue_cases.add((issue_id, case_id))
        self.issues.append((issue_id, at.date(), settled))

    def sog_meeting(self, plan: _MeetingPlan) -> None:
        rng = self.rng
        members = self.members[Forum.Kind.SOG] or [(self.chair.pk, self.chair_agency)]
        if rng.random() < 0.35:  # raised directly by a member
            user, _ = rng.choice(members)
            self.issue(
                self.at(plan.day - datetime.timedelta(days=rng.randint(8, 25)), 10 * 60),
                raised_by=user,
                raised_from=None,
                cases=[],
            )
        live = [
            issue_id
            for issue_id, raised, settled in self.issues
            if raised <= plan.day - datetime.timedelta(days=3)
            and (settled is None or settled > plan.day)
        ]
        wanted = max(4, plan.wanted)
        chosen = rng.sample(live[-12:], min(len(live[-12:]), 4))
        topics = rng.sample(SOG_TOPICS, wanted - len(chosen))
        slots = self._slots(len(chosen) + len(topics), 14)
        built = self.at(plan.day - datetime.timedelta(days=9), 15 * 60 + 20)
        typed = self.at(plan.day + datetime.timedelta(days=1), 11 * 60)
        self._attendance(plan, rng.randint(2, 5))
        entries: list[uuid.UUID | str] = [*chosen, *topics]
        for order, (slot, entry) in enumerate(zip(slots, entries, strict=True), start=1):
            item_id = self.next_item
            self.next_item += 1
            presenter, _ = rng.choice(members)
            issue_id = entry if isinstance(entry, uuid.UUID) else None
            self.t_item.add(
                (
                    item_id,
                    plan.pk,
                    order,
                    None,
                    "" if issue_id else str(entry),
                    issue_id,
                    slot[0],
                    slot[1],
                    presenter,
                    rng.choice(SOG_MINUTES),
                    1,
                    built,
                    typed,
                )
            )
            count = (
                rng.choices((4, 5, 6, 7, 8), (20, 25, 25, 15, 15))[0]
                if issue_id
                else rng.randint(1, 3)
            )
            for _ in range(count):
                owner, _ = rng.choice(members)
                self._action(
                    plan,
                    item_id,
                    case_id=None,
                    issue_id=issue_id,
                    description=rng.choice(SOG_ACTIONS),
                    owner=owner,
                    due_days=(28, 90),
                )

    # --- the end ----------------------------------------------------------------------------------

    def finish(self, counts: dict[str, int]) -> dict[str, int]:
        for table in self.tables.values():
            table.flush()
        self.stop_copier()
        if self.copy:
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [AgendaItem]):
                    cursor.execute(sql)
        for model, table in self.tables.items():
            counts[model._meta.label] = counts.get(model._meta.label, 0) + table.written
        return counts


# Every model whose rows go through ``_City.table`` (its bulk loader).
_BULK_MODELS: tuple[type[models.Model], ...] = (
    User.groups.through,
    Person,
    Case,
    CaseAgency,
    CaseGroupObjectPermission,
    CaseVisibility,
    Risk,
    RiskLevelChange,
    RiskOwner,
    CarePlan,
    CarePlanItem,
    OutcomeReview,
    HandOffAttempt,
    Referral,
    Referral.reasons.through,
    Referral.services_involved.through,
    Referral.sharing_agencies.through,
    ReferralRisk,
    Assessment,
    AssessmentAnswer,
    ConsentRecord,
    ConsentRecord.agencies.through,
    SharingBasis,
    SharingBasis.agencies.through,
    Meeting,
    AgendaItem,
    Invitation,
    Attendance,
    ForumDecision,
    Action,
    SystemIssue,
    SystemIssue.cases.through,
)

# Models whose auto_now / auto_now_add dates the generator sets itself.
_DATED_MODELS: tuple[type[models.Model], ...] = (
    Agency,
    Person,
    Case,
    CaseAgency,
    CaseVisibility,
    Risk,
    RiskOwner,
    CarePlan,
    OutcomeReview,
    Referral,
    ReferralRisk,
    Assessment,
    ConsentRecord,
    SharingBasis,
    Meeting,
    AgendaItem,
    ForumDecision,
    Action,
    SystemIssue,
)


def _drop_foreign_keys() -> list[tuple[str, str, str]]:
    """Drop the foreign keys of the bulk-loaded tables (PostgreSQL); return how to restore them.

    Deferred foreign keys are otherwise checked row by row at commit, which takes
    longer than loading the rows. Restoring them checks every row again, in one
    query per key, inside the same transaction: nothing unchecked is committed.
    """
    tables = [str(model._meta.db_table) for model in _BULK_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables],
        )
        keys = [(table, name, definition) for table, name, definition in cursor.fetchall()]
        qn = connection.ops.quote_name
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
    return keys


def _restore_foreign_keys(keys: list[tuple[str, str, str]]) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")


@unattributed("scale data: a synthetic city for benchmarks")
def build_scale_city(
    *, people: int, seed: int = 1, progress: Progress | None = None
) -> dict[str, int]:
    """Add ``people`` fictional people and five years of the forums' work; rows per model.

    Call on a database with the demo city (``seed_demo``) and without scale data
    (``scale_data_present``). Runs in one transaction; on PostgreSQL the tables
    are analysed afterwards so the planner sees their real sizes.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    say = progress or (lambda _message: None)
    city = _City(people=people, seed=seed, progress=say)
    counts: dict[str, int] = {}
    # Only when this is the whole transaction: a caller's own pending rows would
    # stop PostgreSQL altering the tables.
    swap_keys = city.copy and not connection.in_atomic_block
    with transaction.atomic(), _explicit_timestamps(_DATED_MODELS):
        keys = _drop_foreign_keys() if swap_keys else []
        city.load()
        before = {"auth.Group": Group.objects.count(), "csf_portal.User": User.objects.count()}
        before["csf_portal.Agency"] = Agency.objects.count()
        city.agencies_and_users()
        counts["auth.Group"] = Group.objects.count() - before["auth.Group"]
        counts["csf_portal.Agency"] = Agency.objects.count() - before["csf_portal.Agency"]
        counts["csf_portal.User"] = User.objects.count() - before["csf_portal.User"]
        city.meetings()
        try:
            city.people()
            city.extra_referrals()
            city.forums()
            counts = city.finish(counts)
        finally:
            with contextlib.suppress(Exception):
                city.stop_copier()  # never leave the worker using the connection
        say(f"rows written ({city.elapsed()})")
        if keys:
            _restore_foreign_keys(keys)
            say(f"{len(keys)} foreign keys checked ({city.elapsed()})")
    say(f"committed ({city.elapsed()})")
    # Group memberships went in by bulk load, which sends no signals.
    from csf_portal.authz import invalidate

    invalidate()
    if connection.vendor == "postgresql":
        # VACUUM as well as ANALYZE: freshly copied rows are not yet marked all-visible,
        # so index-only scans (the case list's count) would visit the heap until
        # autovacuum came round; a city that has run for years would not look like that.
        # VACUUM cannot run inside a transaction (a test's, say): there, ANALYZE alone.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(command)
        say(f"tables: {command} done ({city.elapsed()})")
    return counts
