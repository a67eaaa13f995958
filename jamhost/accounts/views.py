import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jamhost.accounts.forms import SignUpForm
from jamhost.accounts.selectors import account_jams_posted_in
from jamhost.accounts.services import AccountDeleted, account_delete, account_posts_export
from jamhost.ratelimit import Limited, rate_check


def signup(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url or "jams:list")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


class LoginView(auth_views.LoginView):
    """Django's log-in, limited per username and per address against password guessing."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150].strip().lower()
        try:
            rate_check(
                request=request,
                scope="login",
                user_key=username or None,
                rates=(settings.RATE_LOGIN_USER, settings.RATE_LOGIN_ADDRESS),
                what="log-in attempts",
            )
        except Limited as limited:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, limited.message)
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        return super().post(request, *args, **kwargs)


def _account_page(
    request: HttpRequest, errors: dict[str, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    context = {"errors": errors or {}, "posted_in": account_jams_posted_in(user=request.user)}
    return render(request, "accounts/account.html", context, status=status)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@login_required
def account_download(request: HttpRequest) -> HttpResponse:
    export = account_posts_export(user=request.user)
    response = HttpResponse(
        json.dumps(export, ensure_ascii=False, indent=2), content_type="application/json"
    )
    name = f"jamhost-posts-{request.user.get_username()}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def account_remove(request: HttpRequest) -> HttpResponse:
    try:
        done = account_delete(user=request.user, password=request.POST.get("password", ""))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _account_page(request, errors, status=400)
    logout(request)
    messages.success(request, f"Your account is deleted. {_what_became_of_posts(done)}")
    return redirect("jams:list")


def _what_became_of_posts(done: AccountDeleted) -> str:
    """Each jam's policy, in one truthful sentence: how many posts show as a deleted
    user and how many were removed."""
    said = []
    if n := done.anonymized:
        said.append(
            f"{n} post{'s' if n != 1 else ''} now show{'' if n != 1 else 's'} as a deleted user"
        )
    if n := done.removed:
        said.append(f"{n} post{'s' if n != 1 else ''} {'were' if n != 1 else 'was'} removed")
    return " and ".join(said) + "." if said else "You had made no posts."
