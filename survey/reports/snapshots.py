"""Weighting runs kept as numbered, immutable snapshots.

* **Paper round** (method section 4): design weight ``d = N_h / n_h``, nonresponse adjustment
  within the stratum (``d · n_h / r_h = N_h / r_h``,
  :func:`analysis.design_weights.stratum_weights`); optionally raking to the frame's dossier
  totals by place and by field group (over the strata that have respondents, so that the margins
  agree), optionally trimming at ``k`` × median — with raking, trimmed and re-raked
  (:func:`analysis.weighting.calibrate_design` with ``trim``); without raking, R's
  ``trimWeights``. Variance: strata with fpc = N_h; after raking, the calibration (GREG)
  linearization.
* **QR period**: self-selected respondents, post-stratified to the dossier counts of place ×
  field group taken from a round's frame (weights ``N_c / n_c``; variance with the post-strata
  as strata and a counter's responses of one week as a cluster, R
  ``svydesign(ids = ~psu, strata = ~cell, weights = ~w, nest = TRUE)``). Respondents in a
  cell without dossiers are left out (and counted in the report); cells without respondents
  are reported as not represented. Never pooled with the paper channel, never compared with a target as "đạt".

Every statistic comes from :mod:`analysis`; this module reads the stored data, hashes the
inputs, and stores the run. Same inputs, same parameters → the same numbers (and the same
``inputs_hash``); every run is a new row.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from analysis.design import Design, DesignError, make_design
from analysis.design_weights import stratum_weights
from analysis.questionnaire import IndexSpec, index_spec
from analysis.rates import estimate_rates, estimate_shares
from analysis.response_rates import aapor_rates, disposition_counts
from analysis.weighting import WeightingError, calibrate_design, post_stratify, trim_design, weight_diagnostics
from survey.i18n import local_day_start
from survey.models import DossierCountTable, Questionnaire, SurveyRound, User, WeightingSnapshot
from survey.models.base import FIELD_GROUPS, LAND_CONSTRUCTION_INVESTMENT, LAND_CONSTRUCTION_INVESTMENT_LABEL
from survey.models.paper import OUTCOMES
from survey.reports import queries
from survey.reports.background import (
    BackgroundQuestion,
    add_background_columns,
    background_codes,
    background_questions,
    estimate_background,
)
from survey.reports.estimates import report_questionnaires
from survey.responses.wide import wide_table

DOMAIN_LEVELS = {"field_group": FIELD_GROUPS, "ldx": (LAND_CONSTRUCTION_INVESTMENT_LABEL,)}


class SnapshotError(ValueError):
    """The run cannot be made as asked; the message is one Vietnamese sentence."""


@dataclass(frozen=True)
class SnapshotInputs:
    """What one weighting run reads: the responses (wide table) and the design."""

    wide: pd.DataFrame  # design columns, item columns, plus stratum/fpc (paper) or cell (QR)
    spec: IndexSpec
    versions: list[Questionnaire]
    #: Background questions of the questionnaire; their answers are the ``bg:<code>`` columns.
    background: tuple[BackgroundQuestion, ...] = ()


def _software() -> dict[str, str]:
    names = ("sipas", "numpy", "pandas", "scipy")
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[name] = "?"
    return out


def _domains(wide: pd.DataFrame) -> dict[str, pd.Categorical]:
    """The domain variables as Categoricals (the engine takes them by their codes: no string
    per row); labels as strings, as the engine compares them."""
    group = pd.Categorical(wide["field_group"])
    group = pd.Categorical.from_codes(group.codes, categories=[str(c) for c in group.categories], validate=False)
    in_ldx = np.isin(np.asarray(group.categories, dtype=object), LAND_CONSTRUCTION_INVESTMENT)
    ldx_codes = np.where(group.codes >= 0, np.where(in_ldx, 0, -1)[group.codes], -1)
    ldx = pd.Categorical.from_codes(ldx_codes, categories=[LAND_CONSTRUCTION_INVESTMENT_LABEL], validate=False)
    place_codes, places = pd.factorize(wide["place_id"].to_numpy(dtype=np.int64), sort=True)
    place = pd.Categorical.from_codes(place_codes, categories=[str(p) for p in places], validate=False)
    return {"field_group": group, "ldx": ldx, "place": place}


def estimate_all(wide: pd.DataFrame, design: Design, spec: IndexSpec) -> dict[str, pd.DataFrame]:
    """The snapshot's estimates: item rates, element indices and the overall index, overall and
    by field group, land + construction + investment and place; every share (perceptions,
    expectations) overall — all from :mod:`analysis`."""
    by = _domains(wide)
    rates = estimate_rates(
        wide[list(spec.items)],
        design,
        valid_codes=spec.valid_codes,
        success_codes=spec.satisfied_codes,
        composites=spec.composites(),
        by=by,
        levels=DOMAIN_LEVELS,
    )
    shares = [
        estimate_shares(
            wide[list(share.items)],
            design,
            valid_codes=share.valid_codes,
            report=share.report,
        )
        for share in spec.shares
        if share.items
    ]
    return {"rates": rates, "shares": pd.concat(shares, ignore_index=True) if shares else pd.DataFrame()}


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    if table.empty:
        return []
    records: list[dict[str, Any]] = json.loads(table.to_json(orient="records", double_precision=15))
    return records


def _inputs_hash(kind: str, parameters: dict[str, Any], versions: list[Questionnaire], wide: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"kind": kind, "parameters": parameters}, sort_keys=True).encode())
    for q in versions:
        digest.update(f"{q.slug}:{q.version}:{q.content_hash}".encode())
    for column in ("id", "place_id"):
        digest.update(np.ascontiguousarray(wide[column].to_numpy(dtype=np.int64)).data)
    for column in ("field_group", "stratum", "cell", "psu"):
        if column in wide:
            codes, labels = _coded(wide[column])
            digest.update(codes.tobytes())
            digest.update("|".join(labels).encode())
    for column in ("fpc", "cell_total"):
        if column in wide:
            digest.update(wide[column].to_numpy(dtype=np.float64).tobytes())
    items = [c for c in wide.columns if c in set(versions[-1].coded_layout)]
    for item in items:  # column by column: no (n, items) matrix built just to be hashed
        digest.update(np.ascontiguousarray(wide[item].to_numpy(dtype=np.float64)).data)
    for values in background_codes(wide):
        codes, labels = _coded(pd.Series(values))
        digest.update(codes.tobytes())
        digest.update("|".join(labels).encode())
    return digest.hexdigest()


def _coded(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels (as strings) of a label column: small to store and hash."""
    codes, labels = pd.factorize(values, sort=False)
    return codes.astype(np.int32), np.asarray([str(v) for v in labels], dtype=str)


def _pack_weights(wide: pd.DataFrame, weight: np.ndarray, base: np.ndarray) -> bytes:
    arrays: dict[str, np.ndarray] = {
        "id": wide["id"].to_numpy(dtype=np.int64),
        "weight": np.asarray(weight, dtype=np.float64),
        "base_weight": np.asarray(base, dtype=np.float64),
    }
    if "fpc" in wide:
        arrays["fpc"] = wide["fpc"].to_numpy(dtype=np.float64)
    for column in ("stratum", "cell", "psu"):
        if column in wide:
            arrays[f"{column}_codes"], arrays[f"{column}_labels"] = _coded(wide[column])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return zlib.compress(buffer.getvalue(), 1)  # fast: a million weights in well under a second


def snapshot_weights(snapshot: WeightingSnapshot) -> pd.DataFrame:
    """The stored weights: ``id``, ``weight`` (final), ``base_weight`` (before calibration and
    trimming) and, for a paper round, ``stratum`` and ``fpc`` (N_h); for QR, ``cell`` and
    ``psu`` (counter|Monday of the week)."""
    with np.load(io.BytesIO(zlib.decompress(snapshot.weights)), allow_pickle=False) as archive:
        frame = pd.DataFrame({"id": archive["id"], "weight": archive["weight"], "base_weight": archive["base_weight"]})
        for column in ("stratum", "cell", "psu"):
            if f"{column}_codes" in archive:
                labels = archive[f"{column}_labels"].astype(object)
                frame[column] = labels[archive[f"{column}_codes"]]
        if "fpc" in archive:
            frame["fpc"] = archive["fpc"]
    return frame


def _store(
    session: Session,
    *,
    kind: str,
    survey_round: SurveyRound | None,
    period: tuple[date, date],
    label: str,
    inputs: SnapshotInputs,
    parameters: dict[str, Any],
    design: Design,
    base: np.ndarray,
    report: dict[str, Any],
    actor: User | None,
) -> WeightingSnapshot:
    wide = inputs.wide
    tables = estimate_all(wide, design, inputs.spec)
    background = estimate_background(wide, design, inputs.spec, list(inputs.background))
    summary = weight_diagnostics(design.weights[design.weights > 0])
    report = {
        **report,
        "n": summary.n,
        "weight_total": summary.total,
        "weight_min": summary.min,
        "weight_median": summary.median,
        "weight_max": summary.max,
        "kish_n_eff": summary.kish_n_eff,
        "deff_w": summary.deff_w,
    }
    snapshot = WeightingSnapshot(
        kind=kind,
        round_id=None if survey_round is None else survey_round.id,
        period_start=period[0],
        period_end=period[1],
        label=label,
        questionnaire_slug=inputs.versions[-1].slug,
        versions=[q.version for q in inputs.versions],
        parameters=parameters,
        inputs_hash=_inputs_hash(kind, parameters, inputs.versions, wide),
        software=_software(),
        respondents=len(wide),
        report=report,
        estimates={
            "rates": _records(tables["rates"]),
            "shares": _records(tables["shares"]),
            "background": _records(background),
        },
        weights=_pack_weights(wide, design.weights, base),
        created_by_id=None if actor is None else actor.id,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


# --- paper round -------------------------------------------------------------------------------
def paper_inputs(session: Session, survey_round: SurveyRound) -> SnapshotInputs:
    """The round's verified (or accepted) responses on the round's questionnaire, with their
    stratum and the stratum's frame count N_h."""
    questionnaire = session.get(Questionnaire, survey_round.questionnaire_id)
    assert questionnaire is not None
    wide = wide_table(session, questionnaire, channel="paper")
    design_rows = session.execute(queries.paper_design_columns(survey_round.id)).all()
    columns = pd.DataFrame(design_rows, columns=["id", "stratum", "fpc", "sample_size"])
    wide = wide.merge(columns, on="id", how="inner").sort_values("id", kind="stable", ignore_index=True)
    questions = background_questions(questionnaire.definition)
    wide = add_background_columns(session, wide, questions, questionnaire_ids=[questionnaire.id], channel="paper")
    return SnapshotInputs(wide, index_spec(questionnaire.definition), [questionnaire], tuple(questions))


def build_paper_snapshot(
    session: Session,
    survey_round: SurveyRound,
    *,
    rake: bool = False,
    trim: float | None = None,
    actor: User | None = None,
) -> WeightingSnapshot:
    """Weight a paper round and store the run as a new snapshot. Flushes; the caller commits."""
    if trim is not None and not trim > 1:
        raise SnapshotError("Hệ số cắt quyền số phải lớn hơn 1.")
    inputs = paper_inputs(session, survey_round)
    wide = inputs.wide
    if wide.empty:
        raise SnapshotError(f"Đợt “{survey_round.name}” chưa có phiếu nào đã nhập và xác minh.")
    strata = wide["stratum"].astype(str).to_numpy()
    fpc = wide["fpc"].to_numpy(dtype=np.float64)
    try:
        weights = stratum_weights(strata, fpc, wide["sample_size"].to_numpy(dtype=np.float64))
    except ValueError as exc:
        raise SnapshotError(f"Không tính được quyền số thiết kế: {exc}") from None
    design_weight, base = weights.design, weights.adjusted  # N_h / n_h; N_h / r_h
    design = make_design(strata=strata, fpc=fpc, weights=base)
    frame_strata = session.execute(queries.stratum_designs(survey_round.id)).all()
    missing = [row for row in frame_strata if row.stratum not in weights.respondents]
    report: dict[str, Any] = {
        "strata": len(frame_strata),
        "strata_without_respondents": len(missing),
        "dossiers_not_represented": int(sum(row.population for row in missing)),
        "design_weight_min": float(design_weight.min()),
        "design_weight_max": float(design_weight.max()),
        "iterations": 0,
        "max_rel_error": 0.0,
        "trimmed": 0,
    }
    try:
        if rake:
            factors = {"place": wide["place_id"].astype(str).to_numpy(), "field_group": strata_groups(strata)}
            margins = _frame_margins(frame_strata, set(weights.respondents))
            design, result = calibrate_design(design, factors, margins, method="raking", trim=trim)
            report |= {"iterations": result.iterations, "max_rel_error": result.max_rel_error}
            report["trimmed"] = int(result.n_trimmed)
        elif trim is not None:
            cap = trim * float(np.median(base))
            design = trim_design(design, upper=cap, strict=True)
            report["trimmed"] = int((base > cap).sum())
    except (WeightingError, DesignError) as exc:
        raise SnapshotError(f"Không tính được quyền số: {exc}") from None
    report |= _outcomes(session, survey_round)
    parameters = {"rake": rake, "trim": trim}
    period = (survey_round.period_start, survey_round.period_end)
    return _store(
        session,
        kind="paper",
        survey_round=survey_round,
        period=period,
        label=survey_round.name,
        inputs=inputs,
        parameters=parameters,
        design=design,
        base=base,
        report=report,
        actor=actor,
    )


def _outcomes(session: Session, survey_round: SurveyRound) -> dict[str, Any]:
    """The round's interview outcomes and AAPOR rates (`analysis.response_rates`) at the time
    of the run, kept with the snapshot, and whether they were interim (fieldwork not closed)."""
    rows = session.execute(queries.outcome_counts(survey_round.id)).all()
    counts = {str(outcome): int(n) for outcome, n in rows if outcome}
    pending = sum(int(n) for outcome, n in rows if not outcome)
    dispositions = disposition_counts(counts, {code: d for code, (d, _label) in OUTCOMES.items()})
    rates = aapor_rates(dispositions, pending=pending)
    return {
        "cases_in_field": sum(counts.values()) + pending,
        "outcomes": counts,
        "pending": pending,
        "aapor": {"rr1": rates.rr1, "rr2": rates.rr2, "coop1": rates.coop1, "ref1": rates.ref1, "con1": rates.con1},
        # Fieldwork still ran at the time of the run: the rates are interim (tạm tính).
        "interim": survey_round.status != "closed",
    }


def strata_groups(strata: np.ndarray) -> np.ndarray:
    """The field group of every stratum label ``place code|field group``."""
    return np.array([s.rsplit("|", 1)[-1] for s in strata], dtype=object)


def _frame_margins(frame_strata: list[Any], represented: set[str]) -> dict[str, dict[str, float]]:
    place: dict[str, float] = {}
    group: dict[str, float] = {}
    for row in frame_strata:
        if row.stratum not in represented:
            continue
        place[str(row.place_id)] = place.get(str(row.place_id), 0.0) + row.population
        group[row.field_group] = group.get(row.field_group, 0.0) + row.population
    return {"place": place, "field_group": group}


# --- QR period ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountSource:
    """Where a QR period's dossier counts come from: a round's frame or an imported table."""

    frame_round: SurveyRound | None = None
    table: DossierCountTable | None = None

    def counts(self, session: Session, start: date, end: date) -> list[Any]:
        """Rows ``(place_id, field_group, dossiers)``: the frame's counts, or the table's rows
        whose period lies within ``start``–``end``, added up."""
        if self.frame_round is not None:
            return list(session.execute(queries.frame_cell_counts(self.frame_round.id)).all())
        assert self.table is not None
        return list(session.execute(queries.table_cell_counts(self.table.id, start, end)).all())

    @property
    def label(self) -> str:
        if self.frame_round is not None:
            return self.frame_round.name
        assert self.table is not None
        return self.table.name


def qr_inputs(
    session: Session, slug: str, start: date, end: date, source: CountSource, *, background: bool = False
) -> SnapshotInputs:
    """QR responses submitted from ``start`` to ``end`` (inclusive; days of ``SIPAS_TIMEZONE``,
    Vietnam's, not UTC's) on the pooled questionnaire versions, each with its cell (place ×
    field group) and the cell's dossier count from ``source`` (0 when it has none); with
    ``background``, their answers to the
    background questions too (read from the JSON answers: slow for a million responses, so
    only when asked)."""
    versions, _excluded = report_questionnaires(session, slug)
    if not versions:
        raise SnapshotError("Chưa có phiếu hỏi nào được công bố.")
    tables = [wide_table(session, q, channel="qr") for q in versions]
    wide = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    for column in ("channel", "status", "field_group"):  # versions with other categories concat to object
        if not isinstance(wide[column].dtype, pd.CategoricalDtype):
            wide[column] = wide[column].astype("category")
    low = local_day_start(start)  # the period's days are Vietnam's (SIPAS_TIMEZONE), not UTC's
    high = local_day_start(end + timedelta(days=1))
    within = ((wide["submitted_at"] >= low) & (wide["submitted_at"] < high)).to_numpy()
    if not within.all():
        wide = wide[within]
    if not wide["id"].is_monotonic_increasing:
        wide = wide.sort_values("id", kind="stable")
    wide = wide.reset_index(drop=True)
    place = wide["place_id"].to_numpy(dtype=np.int64)
    group_codes = wide["field_group"].cat.codes.to_numpy(dtype=np.int64)
    group_labels = list(wide["field_group"].cat.categories)
    cell_codes, cell_keys = pd.factorize(place * 16 + group_codes, sort=True)
    cell_labels = [f"{key // 16}|{group_labels[key % 16]}" for key in cell_keys]
    wide["cell"] = pd.Categorical.from_codes(cell_codes, categories=cell_labels)
    when = wide["submitted_at"].dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    days = (when - np.datetime64("1970-01-05", "D")).astype(np.int64)
    weeks = np.floor_divide(days, 7)  # weeks starting on a Monday
    counter = wide["counter_id"].fillna(0).to_numpy(dtype=np.int64)
    psu_codes, psu_keys = pd.factorize(counter * 100_000 + weeks, sort=True)
    monday = np.datetime64("1970-01-05", "D")
    psu_labels = [f"{key // 100_000}|{monday + 7 * (key % 100_000)}" for key in psu_keys]
    wide["psu"] = pd.Categorical.from_codes(psu_codes, categories=psu_labels)
    counts = {f"{row.place_id}|{row.field_group}": int(row.dossiers) for row in source.counts(session, start, end)}
    totals = np.array([counts.get(label, 0) for label in cell_labels], dtype=np.float64)
    wide["cell_total"] = totals[cell_codes] if len(wide) else np.zeros(0)
    questions = background_questions(versions[-1].definition) if background else []
    wide = add_background_columns(session, wide, questions, questionnaire_ids=[q.id for q in versions], channel="qr")
    return SnapshotInputs(wide, index_spec(versions[-1].definition), versions, tuple(questions))


def _without_unused(column: pd.Series) -> pd.Categorical:
    """``cat.remove_unused_categories()`` by a count of the codes (pandas' own hashes every row)."""
    codes = column.cat.codes.to_numpy()
    categories = column.cat.categories
    used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
    renumber = np.where(used, np.cumsum(used) - 1, -1)
    new_codes = np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1) if len(categories) else codes
    return pd.Categorical.from_codes(new_codes, categories=categories[used], validate=False)


def build_qr_snapshot(
    session: Session,
    *,
    slug: str,
    start: date,
    end: date,
    frame_round: SurveyRound | None = None,
    counts_table: DossierCountTable | None = None,
    background: bool = False,
    actor: User | None = None,
) -> WeightingSnapshot:
    """Post-stratify the QR responses of a period to dossier counts — of ``frame_round``'s
    frame, or of the imported ``counts_table`` (its rows within the period) — and store the run."""
    if end < start:
        raise SnapshotError("Ngày kết thúc phải sau ngày bắt đầu.")
    if (frame_round is None) == (counts_table is None):
        raise SnapshotError("Chọn một nguồn số hồ sơ: khung mẫu của một đợt hoặc một bảng số hồ sơ đã nhập.")
    source = CountSource(frame_round, counts_table)
    if counts_table is not None and not source.counts(session, start, end):
        raise SnapshotError(
            f"Bảng số hồ sơ “{counts_table.name}” không có kỳ nào nằm trọn trong "
            f"{start:%d/%m/%Y}–{end:%d/%m/%Y} (bảng có số liệu từ {counts_table.period_start:%d/%m/%Y} "
            f"đến {counts_table.period_end:%d/%m/%Y})."
        )
    inputs = qr_inputs(session, slug, start, end, source, background=background)
    everyone = inputs.wide
    counted = everyone["cell_total"] > 0
    wide = everyone[counted].reset_index(drop=True)
    if wide.empty:
        raise SnapshotError(
            "Không có phiếu QR nào trong kỳ đã chọn thuộc ô (nơi tiếp nhận × nhóm lĩnh vực) "
            "có số hồ sơ trong nguồn số hồ sơ đã chọn."
        )
    wide["cell"] = _without_unused(wide["cell"])
    wide["psu"] = _without_unused(wide["psu"])
    labels = np.asarray(wide["cell"].cat.categories, dtype=object)
    codes = wide["cell"].cat.codes.to_numpy()
    per_cell = np.zeros(len(labels))
    per_cell[codes] = wide["cell_total"].to_numpy(dtype=np.float64)
    totals = dict(zip(labels, per_cell, strict=True))
    cells = labels[codes]
    all_cells = source.counts(session, start, end)
    uncovered = [row for row in all_cells if f"{row.place_id}|{row.field_group}" not in totals]
    try:
        # post-stratified weights N_c / n_c; the variance treats the post-strata as strata and
        # the responses of one counter in one week as a cluster (they share the staff and the
        # week's conditions) — the conditional variance of the post-stratified estimator
        weights = post_stratify(np.ones(len(wide)), cells, totals).weights
        design = make_design(strata=codes, psu=wide["psu"].cat.codes.to_numpy(), weights=weights)
    except (WeightingError, DesignError) as exc:
        raise SnapshotError(f"Không tính được quyền số: {exc}") from None
    report = {
        "cells": len(totals),
        "respondents_without_dossier_count": int((~counted).sum()),
        "cells_without_respondents": len(uncovered),
        "dossiers_not_represented": int(sum(row.dossiers for row in uncovered)),
        "frame_round": source.label,
        "counts_source": "frame" if frame_round is not None else "table",
        "iterations": 0,
        "max_rel_error": 0.0,
        "trimmed": 0,
        "self_selected": True,
    }
    parameters: dict[str, Any] = {"method": "poststratify", "cells": "place×field_group"}
    if background:
        parameters["background"] = True
    if frame_round is not None:
        parameters["frame_round_id"] = frame_round.id
    else:
        assert counts_table is not None
        parameters["counts_table_id"] = counts_table.id
        report["rows_partly_outside_period"] = int(
            session.scalar(queries.table_rows_partly_outside(counts_table.id, start, end)) or 0
        )
    label = f"QR {start:%d/%m/%Y}–{end:%d/%m/%Y}"
    inputs = SnapshotInputs(wide, inputs.spec, inputs.versions, inputs.background)
    return _store(
        session,
        kind="qr",
        survey_round=frame_round,
        period=(start, end),
        label=label,
        inputs=inputs,
        parameters=parameters,
        design=design,
        base=np.ones(len(wide)),
        report=report,
        actor=actor,
    )


def period_bounds(kind: str, year: int, number: int = 1) -> tuple[date, date]:
    """The first and last day of a month (``number`` 1–12), quarter (1–4) or year."""
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    if kind == "quarter":
        if not 1 <= number <= 4:
            raise SnapshotError("Quý phải từ 1 đến 4.")
        first = date(year, 3 * number - 2, 1)
        months = 3
    elif kind == "month":
        if not 1 <= number <= 12:
            raise SnapshotError("Tháng phải từ 1 đến 12.")
        first = date(year, number, 1)
        months = 1
    else:
        raise SnapshotError(f"Kỳ {kind!r} không hợp lệ.")
    next_month = first.month - 1 + months
    after = date(first.year + next_month // 12, next_month % 12 + 1, 1)
    return first, after - timedelta(days=1)


def estimates_frame(snapshot: WeightingSnapshot, table: str = "rates") -> pd.DataFrame:
    """A stored estimates table as a DataFrame (NaN where the run stored null)."""
    rows = snapshot.estimates.get(table) or []
    frame = pd.DataFrame(rows)
    for column in ("estimate", "se", "ci_low", "ci_high", "n_eff", "deff"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    return frame


def snapshots_newest_first(session: Session) -> list[WeightingSnapshot]:
    return list(session.scalars(queries.snapshots_newest_first()))


def comparable_snapshots(session: Session, snapshot: WeightingSnapshot) -> list[WeightingSnapshot]:
    """The other runs a run may be compared with: the same kind and the same questionnaire."""
    return [
        s
        for s in snapshots_newest_first(session)
        if s.kind == snapshot.kind and s.questionnaire_slug == snapshot.questionnaire_slug and s.id != snapshot.id
    ]


def rounds_with_forms(session: Session) -> list[SurveyRound]:
    return list(session.scalars(queries.rounds_with_forms()))


def rounds_with_frame(session: Session) -> list[SurveyRound]:
    return list(session.scalars(queries.rounds_with_frame()))


def counts_tables(session: Session) -> list[DossierCountTable]:
    """Imported tables of dossier counts, newest first."""
    return list(session.scalars(queries.counts_tables_newest_first()))


__all__ = [
    "SnapshotError",
    "build_paper_snapshot",
    "build_qr_snapshot",
    "estimate_all",
    "estimates_frame",
    "period_bounds",
    "snapshot_weights",
]
