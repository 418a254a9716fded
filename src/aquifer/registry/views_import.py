"""Excel import from the web UI (placeholder: replaced by the Excel import work)."""

from django.http import HttpResponse


def import_view(request):  # pragma: no cover
    return HttpResponse("import")
