"""Posters for counters: which address they print, and the PDF/PNG/SVG files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from survey import questionnaires
from survey.models import Counter
from survey.qr import counters
from survey.qr.posters import PosterSpec, posters_pdf, qr_png, qr_svg

__all__ = ["PosterConfigError", "answer_minutes", "poster_pdf", "public_base_url", "qr_png", "qr_svg"]


class PosterConfigError(RuntimeError):
    """Posters cannot be printed with the current configuration."""


def public_base_url(config: dict[str, Any], fallback: str | None = None) -> str:
    """The address posters point to. Outside development it must be configured: a poster
    printed with ``localhost`` on it is useless."""
    configured = config.get("PUBLIC_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    if config.get("ENV") != "development":
        raise PosterConfigError(
            "Chưa đặt SIPAS_PUBLIC_BASE_URL (địa chỉ công khai của trang khảo sát, ví dụ "
            "https://sipas.bacninh.gov.vn): không in áp phích với địa chỉ nội bộ."
        )
    return (fallback or "http://127.0.0.1:5000").rstrip("/")


def answer_minutes(session: Session) -> dict[str, int]:
    """The measured answering time (``answer_minutes``) of the newest published version of
    every questionnaire that states one, by slug."""
    out: dict[str, int] = {}
    for slug, _title in questionnaires.slugs(session):
        row = questionnaires.get(session, slug)
        minutes = None if row is None else row.definition.get("answer_minutes")
        if isinstance(minutes, int):
            out[slug] = minutes
    return out


def spec_for(counter: Counter, *, base_url: str, secret: str, province: str, minutes: int | None = None) -> PosterSpec:
    return PosterSpec(
        province=province,
        place_name=counter.place.name,
        counter_name=counter.name,
        url=counters.counter_url(base_url, secret, counter),
        typed_address=counters.typed_address(base_url, secret, counter),
        field_groups=counters.field_group_labels(counter),
        minutes=minutes,
    )


def poster_pdf(
    items: Sequence[Counter],
    *,
    base_url: str,
    secret: str,
    province: str,
    size: str = "A4",
    minutes: Mapping[str, int] | None = None,
    default_slug: str = "",
) -> bytes:
    """One poster per counter; each prints the answering time of the counter's questionnaire
    (`minutes` by slug, from `answer_minutes`; the counter's own slug, else `default_slug`)."""
    if not items:
        raise PosterConfigError("Không có quầy nào đang hoạt động để in áp phích.")
    minutes = minutes or {}
    specs = [
        spec_for(
            c,
            base_url=base_url,
            secret=secret,
            province=province,
            minutes=minutes.get(counters.questionnaire_slug(c, default_slug)),
        )
        for c in items
    ]
    return posters_pdf(specs, size=size)
