"""Pages of the notifications app: the inbox (every signed-in role), one's own contact details,
and for the bureau the rules (who receives what) and the delivery log with retry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aquifer.core.roles import Action
from aquifer.core.scoping import allowed, can, visible_to
from aquifer.notifications.choices import Channel, DeliveryState
from aquifer.notifications.forms import ContactForm, RuleForm
from aquifer.notifications.models import Contact, Delivery, Rule, SmsOutbox
from aquifer.notifications.service import deliver, inbox_of, mark_read

PAGE_SIZE = 50


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = inbox_of(request.user)
    if request.GET.get("unread") == "1":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page_obj": page, "unread_only": request.GET.get("unread") == "1"},
    )


@login_required
def open_message(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one's own message read and follow its link (another's message is a 404)."""
    message = get_object_or_404(inbox_of(request.user), pk=pk)
    mark_read(request.user, [message.pk])
    url = message.notice.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications:inbox")


@require_POST
@login_required
def read_all(request: HttpRequest) -> HttpResponse:
    n = mark_read(request.user)
    messages.success(request, _("已将 %d 条消息标为已读。") % n)
    return redirect("notifications:inbox")


@login_required
def contact(request: HttpRequest) -> HttpResponse:
    """One's own e-mail address and mobile number."""
    user: Any = request.user
    instance = Contact.objects.filter(user=user).first() or Contact(user=user)
    form = ContactForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("联系方式已保存。"))
        return redirect("notifications:contact")
    return render(
        request,
        "notifications/contact.html",
        {"form": form},
        status=422 if form.is_bound and form.errors else 200,
    )


def _bureau_or_township(request: HttpRequest) -> None:
    if not allowed(request.user, "notifications.rules"):
        raise PermissionDenied(_("只有县水务局和乡镇可以查看通知规则。"))


@login_required
def rules(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The rules; the bureau edits them, township officers read them."""
    _bureau_or_township(request)
    qs = visible_to(request.user, Action.VIEW, Rule).select_related("township")
    editable = can(request.user, Action.CHANGE, Rule)
    instance = get_object_or_404(qs, pk=pk) if pk is not None else None
    form = None
    if editable:
        form = RuleForm(request.POST or None, instance=instance)
        if request.method == "POST":
            if request.POST.get("delete") and instance is not None:
                instance.delete()
                messages.success(request, _("通知规则已删除。"))
                return redirect("notifications:rules")
            if form.is_valid():
                form.save()
                messages.success(request, _("通知规则已保存。"))
                return redirect("notifications:rules")
    elif request.method == "POST":
        raise PermissionDenied(_("只有县水务局可以修改通知规则。"))
    return render(
        request,
        "notifications/rules.html",
        {"rules": qs, "form": form, "editing": instance},
        status=422 if form is not None and form.is_bound and form.errors else 200,
    )


@login_required
def deliveries(request: HttpRequest) -> HttpResponse:
    """The e-mail and SMS delivery log (bureau): failures with their error, retry now."""
    if not allowed(request.user, "notifications.deliveries"):
        raise PermissionDenied(_("只有县水务局可以查看投递记录。"))
    if request.method == "POST":
        counts = deliver()
        messages.success(
            request,
            _("已重试：成功 %(sent)d 条，失败 %(failed)d 条。") % counts,
        )
        return redirect("notifications:deliveries")
    qs = Delivery.objects.exclude(channel=Channel.INBOX).select_related("notice", "recipient")
    state = request.GET.get("state", "")
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page_obj": page,
        "state": state,
        "states": DeliveryState.choices,
        "outbox_queued": SmsOutbox.objects.filter(state=SmsOutbox.State.QUEUED).count(),
    }
    return render(request, "notifications/deliveries.html", context)
