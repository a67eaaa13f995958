from __future__ import annotations

from typing import Any

from django import forms

from jamhost.transcripts.search import JamSearch
from jamhost.transcripts.selectors import PastJamFilters


class PastJamSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    host = forms.CharField(required=False, max_length=150, label="Host")
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the start date as YYYY-MM-DD."},
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the end date as YYYY-MM-DD."},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def filters(self) -> PastJamFilters:
        """The valid filters; a field that did not validate is left out."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return PastJamFilters(
            text=data.get("q") or "",
            host=(data.get("host") or "").lstrip("@"),
            since=data.get("since") if "since" not in self.errors else None,
            until=data.get("until") if "until" not in self.errors else None,
        )


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV in the export's columns, or saved X API v2 search results (.json)."
    )
    file_format = forms.ChoiceField(
        required=False,
        label="Format",
        choices=[("auto", "Detect"), ("csv", "CSV"), ("x", "X API v2 search JSON")],
        initial="auto",
    )
    title = forms.CharField(required=False, max_length=200, help_text="Default: #tag on date.")
    hashtag = forms.CharField(
        required=False, max_length=101, help_text="Default: the tag most posts carry."
    )
    encoding = forms.CharField(
        required=False, max_length=40, help_text="CSV only. Default: UTF-8 (or as its BOM says)."
    )
    host_handle = forms.CharField(
        required=False,
        max_length=81,
        label="Host's X handle",
        help_text="X JSON only: whose “Q1:” posts are the questions.",
    )
    panelists = forms.CharField(
        required=False,
        max_length=2000,
        label="Panelists' X handles",
        help_text="X JSON only: comma-separated.",
    )

    def panelist_handles(self) -> tuple[str, ...]:
        raw = self.cleaned_data.get("panelists") or ""
        return tuple(h.strip().lstrip("@") for h in raw.split(",") if h.strip())


class JamSearchForm(forms.Form):
    """Search inside one jam: words, author, question (any may be left empty)."""

    q = forms.CharField(required=False, max_length=200, label="Words")
    author = forms.CharField(required=False, max_length=120, label="Author")
    question = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Question"
    )

    def __init__(self, *args: Any, questions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["question"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "any question")] + [
            (str(q["number"]), f"Q{q['number']}: {q['text'][:60]}") for q in questions
        ]
        field.error_messages["invalid_choice"] = "Pick one of the jam's questions."

    def search(self) -> JamSearch:
        """The valid parts of the search; a field that did not validate is left out."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return JamSearch(
            words=data.get("q") or "",
            author=data.get("author") or "",
            question=data.get("question") if "question" not in self.errors else None,
        )
