from django.conf import settings
from django.http import HttpRequest

from csf_portal.navigation import nav_for


def portal(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "demo_mode": settings.DEMO_MODE,
        "service_name": "CSF Portal",
        "navigation": nav_for(user, request.path) if user is not None else [],
    }
