"""What each jam has used of the X API, and what that costs at the configured rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F

from jamhost.networks.models import ApiUsage


def usage_record(
    *,
    jam_id: int,
    reads: int = 0,
    creates: int = 0,
    with_url: bool = False,
    lookup: bool = False,
) -> None:
    """Add to the jam's counters (one UPDATE; safe from many workers at once). Every post
    X returns is a billed read, whatever asked for it; `lookup` marks reads spent
    confirming jamhost's own posts."""
    if not (reads or creates):
        return
    ApiUsage.objects.get_or_create(jam_id=jam_id)
    ApiUsage.objects.filter(jam_id=jam_id).update(
        reads=F("reads") + reads,
        lookup_reads=F("lookup_reads") + (reads if lookup else 0),
        creates=F("creates") + creates,
        creates_with_url=F("creates_with_url") + (creates if with_url else 0),
    )


@dataclass
class JamCost:
    reads: int
    creates: int
    creates_with_url: int
    lookup_reads: int = 0

    @property
    def creates_plain(self) -> int:
        return self.creates - self.creates_with_url

    @property
    def dollars(self) -> Decimal:
        total = (
            Decimal(str(settings.X_PRICE_READ)) * self.reads
            + Decimal(str(settings.X_PRICE_CREATE)) * self.creates_plain
            + Decimal(str(settings.X_PRICE_CREATE_URL)) * self.creates_with_url
        )
        return total.quantize(Decimal("0.01"))


def jam_cost(*, jam_id: int) -> JamCost:
    usage = ApiUsage.objects.filter(jam_id=jam_id).first()
    if usage is None:
        return JamCost(0, 0, 0)
    return JamCost(usage.reads, usage.creates, usage.creates_with_url, usage.lookup_reads)
