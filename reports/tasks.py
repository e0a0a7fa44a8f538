"""Document tasks: take an id, call a service, own retries and failure."""

from __future__ import annotations

from celery import shared_task

from reports import services

MAX_RETRIES = 3


@shared_task(bind=True, name="reports.generate_document", acks_late=True, max_retries=MAX_RETRIES)
def generate_document(self, document_id: str) -> str:
    try:
        services.document_generate(document_id=document_id, heartbeat=not self.request.is_eager)
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            from reports.pdf import RenderError

            why = f"{exc}. " if isinstance(exc, RenderError) else ""
            services.document_mark_failed(
                document_id=document_id,
                reason=f"The document could not be produced after several tries. {why}"
                f"Try again, or tell your administrator ({type(exc).__name__}).",
            )
            return "failed"
        raise self.retry(exc=exc, countdown=10 * 2**self.request.retries) from exc
    return "done"


@shared_task(name="reports.sweep_documents", acks_late=True)
def sweep_documents() -> int:
    return services.documents_sweep()


@shared_task(name="reports.refresh_outcomes", acks_late=True)
def refresh_outcomes() -> str:
    """Work out the dashboard's default view afresh, so commissioners never wait for it."""
    from reports import dashboard, outcomes

    outcomes.tables_as_at(dashboard.Filters.default(), refresh=True)
    return "done"
