"""Language choice: Chinese unless the user switched (the bureau's working language)."""

from typing import Any

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
