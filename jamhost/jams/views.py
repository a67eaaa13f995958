from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from jamhost.jams.models import Jam, Role
from jamhost.jams.permissions import can_edit, can_moderate, can_see_run_sheet, jam_role
from jamhost.jams.selectors import jam_list_live, jam_list_past, jam_list_upcoming


def jam_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "jams/list.html",
        {
            "live": list(jam_list_live()),
            "upcoming": list(jam_list_upcoming()[:50]),
            "past": list(jam_list_past()[:50]),
        },
    )


def jam_detail(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    questions = list(jam.questions.all())
    run_sheet = can_see_run_sheet(user=request.user, jam=jam)
    panelists = [m.user for m in jam.memberships.filter(role=Role.PANELIST).select_related("user")]
    return render(
        request,
        "jams/detail.html",
        {
            "jam": jam,
            "questions": questions if run_sheet else [q for q in questions if q.is_released],
            "run_sheet": run_sheet,
            "panelists": panelists,
            "role": jam_role(user=request.user, jam=jam),
            "can_edit": can_edit(user=request.user, jam=jam),
            "can_moderate": can_moderate(user=request.user, jam=jam),
        },
    )
