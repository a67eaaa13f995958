"""The big screen's join link and its QR code, made server-side so a projector needs
nothing but a browser."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.urls import reverse

from jamhost.jams.models import Jam


def join_url(jam: Jam) -> str:
    """The absolute address of the jam's live room, as people in the room should type it."""
    return settings.SITE_URL + reverse("live:room", kwargs={"slug": jam.slug})


def qr_svg(text: str) -> str:
    """An SVG QR code for `text`: one path, no fixed size (the page scales it), error
    correction M so a projector's glare or a head in the way still scans."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image()
    svg = image.to_string(encoding="unicode")
    return str(svg)
