"""Issue a one-time enrolment code from the server, for the first administrator (who has
nobody to issue theirs) or anyone locked out of their authenticator app."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from csf_portal import services
from csf_portal.errors import DomainError
from csf_portal.models import User


class Command(BaseCommand):
    help = (
        "Issue a one-time code USERNAME enters at first sign-in to set up their "
        "authenticator app. Their current app and recovery codes stop working."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no account with the username {username!r}.")
        try:
            code = services.enrolment_code_issue(actor=None, user=user)
        except DomainError as error:
            raise CommandError(str(error)) from error
        expires = timezone.localtime(user.enrolment_codes.get().expires_at)
        self.stdout.write(f"Enrolment code for {username}: {code}")
        self.stdout.write(f"It works once, until {expires:%d %B %Y %H:%M}.")
