"""Field blocks that records of the apps above share with the registry, as abstract models.

A record that belongs to a township and (perhaps) to a water user — an alarm, a maintenance
ticket, a patrol — inherits :class:`TownshipAndOwner`: the two links, nullable, protected
(a township or water user with such records cannot be deleted), with no reverse accessor,
and the scope that says so (``aquifer.core.scoping``). They live in the registry, the
lowest app that knows townships and water users; the blocks that know nothing of the registry
(:class:`aquifer.core.models.Timestamped`) live in core.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aquifer.core.scoping import Scope

__all__ = ["TownshipAndOwner"]


class TownshipAndOwner(models.Model):
    """Belongs to a township and a water user: scoped by both."""

    scope = Scope(township="township_id", owner="owner_id")

    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("取用水户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        abstract = True
