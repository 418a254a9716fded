"""Forms of the notification pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.notifications.models import Contact, Rule


class RuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Rule
        fields = [
            "event",
            "role",
            "township",
            "addressed_only",
            "min_severity",
            "inbox",
            "email",
            "sms",
            "active",
        ]


class ContactForm(forms.ModelForm):  # type: ignore[type-arg]
    """The user's own e-mail address (on core.User) and mobile number (on Contact)."""

    email = forms.EmailField(label=_("电子邮箱"), required=False)

    class Meta:
        model = Contact
        fields = ["email", "mobile"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.user.email

    def save(self, commit: bool = True) -> Contact:
        contact: Contact = super().save(commit=commit)
        user = contact.user
        if user.email != self.cleaned_data["email"]:
            user.email = self.cleaned_data["email"]
            user.save(update_fields=["email"])
        return contact
