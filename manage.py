#!/usr/bin/env python
"""Django's command-line utility for CSF Portal."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csf_portal.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018 - load settings to report configuration errors cleanly
    except ImproperlyConfigured as exc:
        sys.exit(f"CSF Portal configuration error: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
