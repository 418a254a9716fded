"""The grouped main menu (core/navigation.py) offers each role exactly the pages the flat
header offered before issue 20 (plus the enforcement pages it adds), marks the current page,
and leaves out groups with nothing to show."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from aquifer.core.context_processors import role as role_context
from aquifer.core.policies import allowed

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]

#: The header's links before the menu was grouped: base.html and every app's _nav.html at the
#: commit before issue 20, their tests verbatim (the inbox moved beside the user's name).
OLD_HEADER = """{% load i18n %}
<a href="{% url 'county_map' %}">
{% if perms_of.registry.records %}
<a href="{% url 'registry:well_list' %}"><a href="{% url 'registry:wateruser_list' %}">
<a href="{% url 'registry:device_list' %}"><a href="{% url 'registry:monitoringwell_list' %}">
{% endif %}
<a href="{% url 'registry:zone_list' %}"><a href="{% url 'registry:township_list' %}">
{% if perms_of.core.auditentry.view %}<a href="{% url 'audit_list' %}">{% endif %}
{% if perms_of.registry.import %}<a href="{% url 'registry:import' %}">{% endif %}
{% if perms_of.monitoring.pages %}
<a href="{% url 'monitoring:alarm_list' %}"><a href="{% url 'monitoring:health_map' %}">
{% endif %}
{% if perms_of.maintenance.use %}<a href="{% url 'maintenance:ticket_list' %}">{% endif %}
{% if perms_of.permits.register %}<a href="{% url 'permits:permit_list' %}">{% endif %}
{% if perms_of.permits.ledger %}<a href="{% url 'permits:zone_ledger' %}">{% endif %}
{% if perms_of.permits.rules %}<a href="{% url 'permits:rules' %}">{% endif %}
<a href="{% url 'accounting:withdrawals' %}">
{% if perms_of.accounting.tax_report %}<a href="{% url 'accounting:tax' %}">{% endif %}
<a href="{% url 'analysis:overview' %}"><a href="{% url 'analysis:balance' %}">
{% if perms_of.analysis.wells %}
<a href="{% url 'analysis:well_trends' %}"><a href="{% url 'analysis:sample_list' %}">
{% endif %}
<a href="{% url 'rights:market' %}">
{% if perms_of.rights.trade %}<a href="{% url 'rights:account' %}">{% endif %}
{% if perms_of.rights.manage %}
<a href="{% url 'rights:approvals' %}"><a href="{% url 'rights:ledger' %}">
{% endif %}
{% if perms_of.rights.waterright.view %}<a href="{% url 'rights:right_list' %}">{% endif %}
{% if perms_of.closure.view %}<a href="{% url 'closure:index' %}">{% endif %}
{% if perms_of.enforcement.cases %}<a href="{% url 'enforcement:case_list' %}">{% endif %}
{% if perms_of.supervision.staff %}<a href="{% url 'supervision:index' %}">
{% elif perms_of.supervision.orders %}<a href="{% url 'supervision:inspection_list' %}">
{% endif %}
<a href="{% url 'portal:home' %}">
{% if perms_of.portal.complaints %}<a href="{% url 'portal:complaint_list' %}">{% endif %}
{% if perms_of.opendata.forwarding %}<a href="{% url 'opendata:forwarding' %}">{% endif %}
{% if perms_of.opendata.exchange %}<a href="{% url 'opendata:exchange' %}">{% endif %}
{% if user.is_staff %}<a href="{% url 'admin:index' %}">{% endif %}
"""

#: Pages the grouped menu adds (they were reached only from the case list), by capability.
ADDED = {
    "/enforcement/metering/": "enforcement.metering",
    "/enforcement/sources/": "enforcement.staff",
    "/credit/": "enforcement.credit_public",
}


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def old_header(user: Any) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user
    return hrefs(Template(OLD_HEADER).render(Context({**role_context(request), "user": user})))


def menu_of(html: str) -> str:
    return re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize("role", ROLES)
def test_menu_offers_what_the_flat_header_offered(world: Any, role: str) -> None:
    from django.contrib.auth.models import AnonymousUser

    user = world.accounts.get(role) or AnonymousUser()
    if role == "bureau":
        user.is_staff = True
        user.save()
    html = world.client(role).get("/wells/" if role != "anonymous" else "/zones/").content
    new = hrefs(menu_of(html.decode()))
    expected = old_header(user) | {url for url, cap in ADDED.items() if allowed(user, cap)}
    assert new == expected, (sorted(new - expected), sorted(expected - new))


def test_current_page_and_its_group_are_marked(world: Any) -> None:
    html = world.client("bureau").get(f"/wells/{world.well_a.pk}/").content.decode()
    nav = menu_of(html)
    assert re.search(r'href="/wells/"[^>]*aria-current="page"', nav)
    assert nav.count('aria-current="page"') == 1
    group = re.search(r'<details class="nav-group current" data-group="(\w+)"', nav)
    assert group and group.group(1) == "records"


def test_groups_without_items_are_left_out(world: Any) -> None:
    nav = menu_of(world.client("anonymous").get("/zones/").content.decode())
    groups = re.findall(r'data-group="(\w+)"', nav)
    assert "governance" not in groups and "records" in groups
    for block in re.findall(r"<details.*?</details>", nav, re.S):
        assert "<a " in block
