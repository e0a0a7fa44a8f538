"""Build the fictional demo city (DESIGN §6). Idempotent: a second run changes nothing.

Each capability extends this command with its own part of the city.

``--scale N`` then adds city-scale data for benchmarks (``demo.scale``):
N more fictional people with five years of referrals, cases and forum work.
It can be added once: on a database that already has it, ``--scale`` refuses
with an error before changing anything (start again from an empty database).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from csf_portal import services
from csf_portal.history import unattributed
from csf_portal.models import Agency, User
from demo.assessments import build_demo_assessments_and_consent
from demo.cases import build_demo_case_records
from demo.forums import build_demo_forums
from demo.people import DEMO_AGENCIES, DEMO_AGENCY_CONTACTS, DEMO_USERS, people_create
from demo.referrals import build_demo_referrals
from demo.reports import build_demo_documents
from demo.scale import build_scale_city, scale_data_present

NO_MAIL = "django.core.mail.backends.dummy.EmailBackend"


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
                existing[slug] = services.agency_create(
                    actor=None,
                    name=name,
                    kind=kind,
                    slug=slug,
                    **DEMO_AGENCY_CONTACTS.get(slug, {}),
                )
        return existing

    def _users(self, agencies: dict[str, Agency]) -> int:
        made = people_create(
            DEMO_USERS,
            agencies=agencies,
            existing=set(User.objects.values_list("username", flat=True)),
            password=settings.DEMO_PASSWORD,
        )
        return len(made)
