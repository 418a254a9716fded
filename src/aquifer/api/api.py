"""The REST API under /api/, assembled from each app's router. OpenAPI at /api/openapi.json."""

from ninja import NinjaAPI

from aquifer import __version__
from aquifer.api.auth import AUTH
from aquifer.api.errors import install_handlers
from aquifer.api.gate import gate
from aquifer.api.hardening import HardenedParser, tighten

api = NinjaAPI(
    title="Aquifer API",
    version=__version__,
    description=(
        "Groundwater management information system of the Yangcheng County Water Affairs "
        "Bureau. Authenticate with a session (browser) or `Authorization: Bearer <token>` "
        "(`aquifer token create USERNAME`). Anonymous callers read what the public may read."
    ),
    auth=AUTH,
    urls_namespace="api",
    parser=HardenedParser(),
)
install_handlers(api)

from aquifer.core.api import router as core_router  # noqa: E402
from aquifer.registry.api import router as registry_router  # noqa: E402

api.add_router("/", core_router)
api.add_router("/", registry_router)
api.add_router("/", "aquifer.telemetry.api.router")
api.add_router("/", "aquifer.telemetry.ingest_api.router")
api.add_router("/", "aquifer.monitoring.api.router")
api.add_router("/", "aquifer.maintenance.api.router")
api.add_router("/", "aquifer.notifications.api.router")
api.add_router("/", "aquifer.permits.api.router")
api.add_router("/", "aquifer.accounting.api.router")
api.add_router("/", "aquifer.analysis.api.router")
api.add_router("/", "aquifer.rights.api.router")
api.add_router("/", "aquifer.closure.api.router")
api.add_router("/", "aquifer.enforcement.api.router")
api.add_router("/", "aquifer.supervision.api.router")
api.add_router("/", "aquifer.portal.api.router")
api.add_router("/opendata", "aquifer.opendata.api.router")

tighten(api)
gate(api)
