"""The big screen's join link and its QR code, made server-side so a projector needs
nothing but a browser."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.http import HttpRequest
from django.urls import reverse

from jamhost.jams.models import Jam
from jamhost.links import absolute_url


def join_url(jam: Jam, request: HttpRequest) -> str:
    """The absolute address of the jam's live room, as people in the room should type it
    (SITE_URL, or the address the big screen itself was opened at)."""
    return absolute_url(reverse("live:room", kwargs={"slug": jam.slug}), request)


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
