"""Person and case pages. Every view of person-level data is written to the access log."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from cases import selectors
from csf_portal import access
from csf_portal.types import AuthenticatedHttpRequest


def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.case_list_visible_to(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    access.record_list_access(user=request.user, request=request, what="cases.case")
    return render(request, "cases/case_list.html", {"page": page})


def case_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    from assessments.selectors import latest_completed

    case = access.case_for(user=request.user, case_id=pk)
    access.record_access(user=request.user, obj=case, request=request)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "person": case.person,
            "latest_assessment": latest_completed(person=case.person),
            **selectors.case_page(user=request.user, case=case),
        },
    )


def person_detail(request: AuthenticatedHttpRequest, pk: Any) -> HttpResponse:
    person = access.person_for(user=request.user, person_id=pk)
    access.record_access(user=request.user, obj=person, request=request)
    context: dict[str, Any] = {
        "person": person,
        "cases": selectors.person_cases(user=request.user, person=person),
        "referrals": selectors.person_referrals(user=request.user, person=person),
        "meam": selectors.person_meam_domains(person=person),
    }
    from assessments.selectors import person_assessment_summary

    context |= person_assessment_summary(user=request.user, person=person)
    return render(request, "cases/person_detail.html", context)
