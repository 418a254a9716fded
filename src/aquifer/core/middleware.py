"""Language choice (Chinese unless the user switched, the bureau's working language), and the
policy gate of pages."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from aquifer.core.policies import route_allows


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Like Django's LocaleMiddleware, but ignores the browser's Accept-Language header.

    A bureau PC with an English browser still gets Chinese until someone picks English with
    the language switch (which sets the language cookie).
    """

    def process_request(self, request: Any) -> None:
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {c for c, _name in settings.LANGUAGES}
        language = code if code in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class PolicyGateMiddleware:
    """Refuse a page before its view runs when the policy its URL name is linked to denies
    the user (:func:`aquifer.core.policies.route_allows`): a 403, or the login page for an
    anonymous visitor (``handler403``). The API has the same gate (``aquifer.api.gate``); the
    admin checks staff status itself."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_view(
        self, request: Any, view_func: Any, view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        match = getattr(request, "resolver_match", None)
        if match is None or match.namespaces[:1] in (["admin"], ["api"]):
            return
        on_object = bool(view_args or view_kwargs)
        if not route_allows(request.user, match.view_name, on_object):
            raise PermissionDenied
