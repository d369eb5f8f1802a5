"""OpenTelemetry set-up shared by every service: one trace per order across all six."""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
_configured = False


def configure_tracing(settings: ServiceSettings) -> None:
    """Install the tracer provider once per process; export over OTLP when an endpoint is set."""
    global _configured
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": settings.service_name}))
    if settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    try:
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument()
    except Exception as exc:  # instrumentation must never stop a service from starting
        log.warning("pymongo instrumentation unavailable", extra={"error": str(exc)})
