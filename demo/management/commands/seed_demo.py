"""Build the fictional demo city (DESIGN §6). Idempotent: a second run changes nothing.

Each capability extends this command with its own part of the city.

``--scale N`` then adds city-scale data for benchmarks (``demo.scale``):
N more fictional people with five years of referrals, cases and forum work.
It can be added once: on a database that already has it, ``--scale`` refuses
with an error before changing anything (start again from an empty database).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from csf_portal import services
from csf_portal.history import unattributed
from csf_portal.models import Agency, AgencyKind, Role, User
from demo.assessments import build_demo_assessments_and_consent
from demo.cases import build_demo_case_records
from demo.forums import build_demo_forums
from demo.referrals import build_demo_referrals
from demo.reports import build_demo_documents
from demo.scale import build_scale_city, scale_data_present

NO_MAIL = "django.core.mail.backends.dummy.EmailBackend"

# Referrers and standing members named in the source documents, as fictional
# organisations of a fictional city.
DEMO_AGENCIES: tuple[tuple[str, str, str], ...] = (
    ("adult-safeguarding", "Adult Safeguarding", AgencyKind.ADULT_SAFEGUARDING),
    ("police", "Police", AgencyKind.POLICE),
    ("probation", "Probation Service", AgencyKind.PROBATION),
    ("hostel", "Hostel provider", AgencyKind.HOSTEL),
    ("housing", "Housing", AgencyKind.HOUSING),
    ("substance-misuse", "Substance misuse provider", AgencyKind.SUBSTANCE_MISUSE),
    ("mental-health", "Mental health provider", AgencyKind.MENTAL_HEALTH),
    ("gp", "GP practice", AgencyKind.GP),
    ("hospital", "City Hospital", AgencyKind.HOSPITAL),
    ("adult-social-care", "Adult Social Care", AgencyKind.ADULT_SOCIAL_CARE),
    ("public-health", "Public Health", AgencyKind.PUBLIC_HEALTH),
    ("community-connections", "Community Connections", AgencyKind.COMMUNITY_CONNECTIONS),
    ("commissioning", "Commissioning team", AgencyKind.COMMISSIONER),
    ("icb-commissioning", "NHS commissioning (integrated care board)", AgencyKind.COMMISSIONER),
    ("environmental-health", "Environmental Health", AgencyKind.ENVIRONMENTAL_HEALTH),
    ("community-nursing", "Community nursing", AgencyKind.COMMUNITY_NURSING),
    ("neuro-rehab", "Neuro-rehabilitation service", AgencyKind.NEURO_REHAB),
    ("reablement", "Reablement service", AgencyKind.REABLEMENT),
    ("ambulance", "Ambulance Service", AgencyKind.AMBULANCE),
    ("street-outreach", "Street outreach (voluntary sector)", AgencyKind.VOLUNTARY),
    ("healthwatch", "Healthwatch", AgencyKind.USER_CARER_GROUP),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    agency_slug: str | None
    job_title: str
    roles: tuple[Role, ...]


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "chair",
        "Alex",
        "Morgan",
        "adult-safeguarding",
        "Adult safeguarding lead",
        (Role.FORUM_CHAIR,),
    ),
    DemoUser("police", "Sam", "Okafor", "police", "Vulnerability officer", (Role.PRACTITIONER,)),
    DemoUser("hostel", "Jo", "Pearce", "hostel", "Hostel support worker", (Role.PRACTITIONER,)),
    DemoUser(
        "mh",
        "Priya",
        "Shah",
        "mental-health",
        "Community mental health nurse",
        (Role.PRACTITIONER, Role.FORUM_MEMBER),
    ),
    DemoUser(
        "housing",
        "Chris",
        "Hughes",
        "housing",
        "Housing options officer",
        (Role.PRACTITIONER, Role.FORUM_MEMBER),
    ),
    DemoUser("gp", "Ruth", "Adeyemi", "gp", "GP", (Role.PRACTITIONER,)),
    DemoUser("sog", "Dan", "Whitfield", "substance-misuse", "Service manager", (Role.SOG_MEMBER,)),
    DemoUser(
        "commissioner",
        "Helen",
        "Carter",
        "commissioning",
        "Senior commissioning manager",
        (Role.COMMISSIONER,),
    ),
    DemoUser(
        "admin", "Portal", "Administrator", None, "System administrator", (Role.ADMINISTRATOR,)
    ),
)


class Command(BaseCommand):
    help = (
        "Build the fictional demo city. Safe to run again: it changes nothing the second time. "
        "With --scale N, also add N fictional people and five years of forum work for "
        "benchmarks (once per database)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Also add city-scale data: N people (about 1.5 N referrals), ~50 agencies, "
            "up to 2,000 users, five years of monthly CSF and SOG meetings. Refused if the "
            "database already has scale data.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Random seed for --scale: the same seed builds the same city (default 1).",
        )

    @unattributed("demo data: a fictional city no one made")
    def handle(self, *args: object, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo creates accounts with a shared, published password and fictional "
                "people. It only runs with CSF_DEMO_MODE=1."
            )
        scale: int = options.get("scale") or 0
        if scale < 0:
            raise CommandError("--scale takes a number of people, 1 or more")
        if scale and scale_data_present():
            raise CommandError(
                "This database already has city-scale data (seed_demo --scale was run before); "
                "nothing was added. To rebuild it, start from an empty database: drop or flush "
                "it, migrate, then run seed_demo --scale again."
            )
        # The services notify people as they would in real use; the demo's
        # people are fictional, so those emails go nowhere.
        with (
            override_settings(MAILERS={"default": {"BACKEND": NO_MAIL}}),
            transaction.atomic(),
        ):
            agencies = self._agencies()
            created_users = self._users(agencies)
            build_demo_referrals(
                agencies=agencies, users=User.objects.in_bulk(field_name="username")
            )
            build_demo_assessments_and_consent(users=User.objects.in_bulk(field_name="username"))
            build_demo_case_records(users=User.objects.in_bulk(field_name="username"))
            build_demo_forums(users=User.objects.in_bulk(field_name="username"))
            build_demo_documents(users=User.objects.in_bulk(field_name="username"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo city ready: {len(agencies)} agencies, {len(DEMO_USERS)} demo users "
                f"({created_users} new)."
            )
        )
        if scale:
            self._scale(scale, seed=options.get("seed", 1))

    def _scale(self, people: int, *, seed: int) -> None:
        started = time.monotonic()

        def progress(message: str) -> None:
            self.stdout.write(f"  {message}")

        self.stdout.write(f"Adding city-scale data: {people:,} people (seed {seed})")
        counts = build_scale_city(people=people, seed=seed, progress=progress)
        for label, rows in sorted(counts.items()):
            self.stdout.write(f"  {label}: {rows:,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"City-scale data ready: {sum(counts.values()):,} rows in "
                f"{time.monotonic() - started:.1f} s."
            )
        )

    def _agencies(self) -> dict[str, Agency]:
        existing = {a.slug: a for a in Agency.objects.all()}
        for slug, name, kind in DEMO_AGENCIES:
            if slug not in existing:
                existing[slug] = services.agency_create(actor=None, name=name, kind=kind, slug=slug)
        return existing

    def _users(self, agencies: dict[str, Agency]) -> int:
        existing = set(User.objects.values_list("username", flat=True))
        created = 0
        for demo in DEMO_USERS:
            if demo.username in existing:
                continue
            services.user_create(
                username=demo.username,
                password=settings.DEMO_PASSWORD,
                first_name=demo.first_name,
                last_name=demo.last_name,
                email=f"{demo.username}@demo.csf-portal.invalid",
                agency=agencies[demo.agency_slug] if demo.agency_slug else None,
                job_title=demo.job_title,
                roles=demo.roles,
            )
            created += 1
        return created
