"""Open standards over Aquifer's data: OGC SensorThings API 1.1 (``sta/``) and OGC API –
Features (``ogcapi/``), both read-only and scoped to what the caller may see
(docs/open-data.md)."""
