import unicodedata

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import RegexValidator

# Handles are ASCII, as on X: a Cyrillic look-alike letter or an invisible character cannot make one
# person's handle look like another's. (Case-insensitive uniqueness is Django's own.)
handle_validator = RegexValidator(
    r"\A[A-Za-z0-9_]{1,30}\Z",
    "Use 1–30 letters A–Z, digits or underscores, as in an X handle.",
)


def clean_display_name(value: str) -> str:
    """Drop what can disguise a name: bidirectional overrides and isolates, zero-width
    and other invisible format characters, and control characters; NFKC-normalise the
    rest so look-alike compatibility forms collapse."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in {"Cf", "Cc", "Co", "Cs"})
    return " ".join(unicodedata.normalize("NFKC", kept).split())


class SignUpForm(UserCreationForm):
    first_name = forms.CharField(label="Display name", max_length=120, required=False)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name")
        help_texts = {"username": "Your handle here: letters A–Z, digits and underscores."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(handle_validator)

    def clean_first_name(self) -> str:
        return clean_display_name(self.cleaned_data.get("first_name", ""))
