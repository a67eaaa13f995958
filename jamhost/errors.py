"""Plain error pages: a message a person can act on, never a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "error.html",
        {"title": "Not found", "message": "There is nothing at this address. It may have moved."},
        status=404,
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = (
        str(exception)
        if exception and str(exception)
        else ("You do not have access to this page. Sign in with the account that has it.")
    )
    return render(request, "error.html", {"title": "Not allowed", "message": message}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors or database here: the failure may be the database.
    return HttpResponse(render_to_string("500.html"), status=500)
