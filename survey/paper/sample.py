"""The sample draw of a paper round: allocation and SRSWOR per stratum through
`analysis.sampling`, main and reserve cases, and the design kept with the round."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis import sampling
from analysis.questionnaire import index_spec
from survey.models import (
    FrameRecord,
    PaperForm,
    Place,
    Questionnaire,
    Response,
    SampledCase,
    StratumDesign,
    SurveyRound,
)
from survey.models.base import utcnow
from survey.paper.rounds import RoundError
from survey.paper.serials import form_serial
from survey.responses.cases import case_responses


def _count_codes(positions: list[int], codes: set[str]) -> sa.ColumnElement[int]:
    """Per response: how many of the characters of ``coded`` at `positions` are in `codes`."""
    terms = [sa.case((sa.func.substr(Response.coded, p + 1, 1).in_(sorted(codes)), 1), else_=0) for p in positions]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def stratum_sd_from_round(session: Session, previous: SurveyRound) -> pd.Series:
    """S_h for a Neyman allocation from an earlier round's stored paper responses: the
    database counts, per stratum, the satisfied and the rated answers to the index items;
    `analysis.sampling.stratum_sd_from_counts` turns them into S_h (its docstring and
    ``docs/methodology.md`` state the prior). Strata the earlier round did not reach are
    left out (the allocation then uses 0.5)."""
    questionnaire = session.get(Questionnaire, previous.questionnaire_id)
    assert questionnaire is not None
    spec = index_spec(questionnaire.definition)
    layout = list(questionnaire.coded_layout)
    positions = [layout.index(code) for code in spec.items]
    link = case_responses()
    rows = session.execute(
        sa.select(
            SampledCase.stratum,
            sa.func.sum(_count_codes(positions, {str(c) for c in spec.satisfied_codes})),
            sa.func.sum(_count_codes(positions, {str(c) for c in spec.valid_codes})),
        )
        .join(link, link.c.case_id == SampledCase.id)
        .join(Response, Response.id == link.c.response_id)
        .where(SampledCase.round_id == previous.id)
        .group_by(SampledCase.stratum)
        .order_by(SampledCase.stratum)
    ).all()
    strata = [str(stratum) for stratum, _x, _m in rows]
    satisfied = pd.Series([int(x) for _s, x, _m in rows], index=strata, dtype="int64")
    rated = pd.Series([int(m) for _s, _x, m in rows], index=strata, dtype="int64")
    return sampling.stratum_sd_from_counts(satisfied, rated)


def _claim_for_draw(session: Session, survey_round: SurveyRound) -> None:
    """Claim the round before drawing: a conditional UPDATE that only one transaction can
    make (the other waits for its row or database lock, then finds the round drawn), so a
    double click on "Chọn mẫu" or two analysts at once draw one sample. A failed draw rolls
    the claim back with everything else."""
    claimed = session.execute(
        sa.update(SurveyRound)
        .where(SurveyRound.id == survey_round.id, SurveyRound.status == "frame")
        .values(status="sampled")
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError("Đợt khảo sát này đã chọn mẫu.")


def _allocation(
    session: Session, survey_round: SurveyRound, rule: sampling.AllocationRule, stratum_sd: pd.Series | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The round's frame (id, dossier code, stratum, place, field group) and the allocation
    `analysis.sampling.allocate` makes of it under `rule`."""
    frame = pd.DataFrame(
        session.execute(
            sa.select(
                FrameRecord.id,
                FrameRecord.dossier_code,
                FrameRecord.stratum,
                FrameRecord.place_id,
                FrameRecord.field_group,
            ).where(FrameRecord.round_id == survey_round.id)
        ).all(),
        columns=["id", "dossier_code", "stratum", "place_id", "field_group"],
    )
    if frame.empty:
        raise RoundError("Đợt khảo sát chưa có khung mẫu: hãy nhập danh sách hồ sơ trước.")
    sizes = frame.groupby("stratum").size()
    groups = frame.groupby("stratum")["field_group"].first()
    try:
        sd = stratum_sd.reindex(sizes.index) if stratum_sd is not None and rule.method == "neyman" else None
        design = sampling.allocate(sizes, rule, field_group_of=groups, stratum_sd=sd)
    except ValueError as exc:
        raise RoundError(f"Không phân bổ được cỡ mẫu: {exc}") from None
    return frame, design


def draw_sample(
    session: Session,
    survey_round: SurveyRound,
    rule: sampling.AllocationRule,
    *,
    seed: int | None = None,
    stratum_sd: pd.Series | None = None,
) -> pd.DataFrame:
    """Allocate, draw main and reserve cases per stratum, and keep the design with the round.
    The same frame and seed give the same sample, bit for bit."""
    if survey_round.status != "frame":
        raise RoundError("Đợt khảo sát này đã chọn mẫu.")
    _claim_for_draw(session, survey_round)
    frame, design = _allocation(session, survey_round, rule, stratum_sd)
    groups = frame.groupby("stratum")["field_group"].first()
    seed = seed if seed is not None else secrets.randbits(31)
    # Keyed on the dossier codes (sorted within each stratum by the draw), not on database ids:
    # the same file and seed give the same dossiers after a re-import, in another row order,
    # or on another server.
    selection = sampling.draw(
        frame[["dossier_code", "stratum"]], design, stratum_col="stratum", id_col="dossier_code", seed=seed
    )
    selection["id"] = selection["dossier_code"].map(dict(zip(frame["dossier_code"], frame["id"], strict=True)))
    places = frame.groupby("stratum")["place_id"].first()
    for stratum, row in design.iterrows():
        session.add(
            StratumDesign(
                round_id=survey_round.id,
                stratum=str(stratum),
                place_id=int(places[stratum]),
                field_group=str(groups[stratum]),
                population=int(row["N_h"]),
                sample_size=int(row["n_h"]),
                reserve_size=int(row["reserve_h"]),
            )
        )
    selection = selection.sort_values(["stratum", "role", "order"], kind="stable")
    cases = []
    for sequence, row in enumerate(selection.itertuples(index=False), start=1):
        cases.append(
            {
                "round_id": survey_round.id,
                "frame_record_id": int(row.id),
                "stratum": row.stratum,
                "role": row.role,
                "draw_order": int(row.order),
                "active": row.role == "main",
                "form_serial": form_serial(survey_round.id, sequence),
            }
        )
    session.execute(sa.insert(SampledCase.__table__), cases)
    survey_round.seed = seed
    survey_round.allocation = {
        "method": rule.method,
        "total_n": rule.total_n,
        "per_stratum": rule.per_stratum,
        "minimum": rule.minimum,
        "oversample": dict(rule.oversample),
        "reserve_rate": rule.reserve_rate,
    }
    survey_round.status = "sampled"
    session.flush()
    return design


@dataclass(frozen=True)
class Draw:
    """What a draw did: the design per stratum and the seed kept with the round."""

    design: pd.DataFrame
    seed: int
    requested: int | None

    @property
    def achieved(self) -> int:
        return int(self.design["n_h"].sum())

    @property
    def reserves(self) -> int:
        return int(self.design["reserve_h"].sum())

    @property
    def size_changed(self) -> bool:
        """Per-stratum minimums moved the sample size away from the one asked for."""
        return self.requested is not None and self.achieved != self.requested


def parse_oversample(items: Iterable[str]) -> dict[str, float]:
    """``["dat_dai=1.5", …]`` → ``{"dat_dai": 1.5, …}`` (the command line's form)."""
    factors = {}
    for item in items:
        group, _, factor = item.partition("=")
        try:
            factors[group.strip()] = float(factor)
        except ValueError:
            raise RoundError(f"--oversample {item!r}: cần dạng nhom=hệ_số, ví dụ dat_dai=1.5") from None
    return factors


def _rule(
    method: str,
    total_n: int | None,
    per_stratum: int | None,
    minimum: int,
    oversample: Mapping[str, float] | None,
    reserve_rate: float,
) -> sampling.AllocationRule:
    """The allocation rule; field groups with a factor of 1 are not oversampled."""
    factors = {group: factor for group, factor in (oversample or {}).items() if factor not in (None, 1.0)}
    return sampling.AllocationRule(
        method=method,  # checked by AllocationRule
        total_n=total_n,
        per_stratum=per_stratum,
        minimum=minimum,
        oversample=factors,
        reserve_rate=reserve_rate,
    )


@dataclass(frozen=True)
class Preview:
    """The allocation a draw would make, nothing written: per stratum (place, field group,
    N_h, n_h, reserves, sampling fraction, expected interviews), per field group and in all."""

    strata: pd.DataFrame
    groups: pd.DataFrame
    response_rate: float


def _fractions(table: pd.DataFrame, response_rate: float) -> pd.DataFrame:
    design = table[["N_h", "n_h", "reserve_h"]].astype("int64")
    return table.assign(
        pi_h=sampling.inclusion_probabilities(design),
        expected=sampling.expected_interviews(design, response_rate),
    )


def preview_round(
    session: Session,
    survey_round: SurveyRound,
    *,
    response_rate: float,
    method: str,
    total_n: int | None = None,
    per_stratum: int | None = None,
    minimum: int = 0,
    oversample: Mapping[str, float] | None = None,
    reserve_rate: float = 0.4,
    seed: int | None = None,
    sd_round: SurveyRound | None = None,
) -> Preview:
    """What `draw_round` with these parameters would allocate (the seed only picks dossiers,
    not sizes). Nothing is written. A broken rule raises `RoundError`."""
    if survey_round.status != "frame":
        raise RoundError("Đợt khảo sát này đã chọn mẫu.")
    try:
        rule = _rule(method, total_n, per_stratum, minimum, oversample, reserve_rate)
        stratum_sd = stratum_sd_from_round(session, sd_round) if sd_round is not None else None
        frame, design = _allocation(session, survey_round, rule, stratum_sd)
        firsts = frame.groupby("stratum")[["place_id", "field_group"]].first()
        names = dict(
            session.execute(sa.select(Place.id, Place.name).where(Place.id.in_(firsts["place_id"].tolist()))).all()
        )
        strata = _fractions(design.join(firsts), response_rate).assign(place=firsts["place_id"].map(names))
        by_group = design.join(firsts["field_group"]).groupby("field_group")[["N_h", "n_h", "reserve_h"]].sum()
        total = pd.DataFrame([by_group.sum()], index=pd.Index(["__total__"]))
        groups = _fractions(pd.concat([by_group, total]), response_rate)
    except ValueError as exc:  # RoundError and SamplingError included
        raise RoundError(str(exc)) from None
    return Preview(strata, groups, response_rate)


def draw_round(
    session: Session,
    survey_round: SurveyRound,
    *,
    method: str,
    total_n: int | None = None,
    per_stratum: int | None = None,
    minimum: int = 0,
    oversample: Mapping[str, float] | None = None,
    reserve_rate: float = 0.4,
    seed: int | None = None,
    sd_round: SurveyRound | None = None,
) -> Draw:
    """The draw as the page and the command line ask for it: build the allocation rule
    (field groups with a factor of 1 are not oversampled), take the Neyman S_h from an
    earlier round if one is named, and draw. A broken rule raises `RoundError`."""
    try:
        rule = _rule(method, total_n, per_stratum, minimum, oversample, reserve_rate)
        stratum_sd = stratum_sd_from_round(session, sd_round) if sd_round is not None else None
        design = draw_sample(session, survey_round, rule, seed=seed, stratum_sd=stratum_sd)
    except ValueError as exc:  # RoundError included
        raise RoundError(str(exc)) from None
    assert survey_round.seed is not None
    return Draw(design, survey_round.seed, total_n if method != "fixed" else None)


def undo_draw(session: Session, survey_round: SurveyRound) -> int:
    """Undo the draw while no case is in the field (none assigned, none with an outcome, no
    paper form received): the cases and the stratum design go, the round is back at its
    frame, ready for another draw. Returns how many cases (main and reserve) were removed.
    The round is claimed by a conditional UPDATE, so it races safely with a second click."""
    in_field = session.scalar(
        sa.select(sa.func.count())
        .select_from(SampledCase)
        .outerjoin(PaperForm, PaperForm.case_id == SampledCase.id)
        .where(
            SampledCase.round_id == survey_round.id,
            sa.or_(SampledCase.surveyor_id.is_not(None), SampledCase.outcome.is_not(None), PaperForm.id.is_not(None)),
        )
    )
    if in_field:
        raise RoundError(f"{in_field} trường hợp đã được giao, có kết quả hoặc có phiếu: không huỷ được lần chọn mẫu.")
    claimed = session.execute(
        sa.update(SurveyRound)
        .where(SurveyRound.id == survey_round.id, SurveyRound.status == "sampled")
        .values(status="frame", seed=None, allocation=None)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError("Chỉ huỷ được lần chọn mẫu khi đợt chưa ra thực địa.")
    removed = session.execute(
        sa.delete(SampledCase)
        .where(SampledCase.round_id == survey_round.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        sa.delete(StratumDesign)
        .where(StratumDesign.round_id == survey_round.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire_all()
    return int(removed)


def top_up_reserves(session: Session, survey_round: SurveyRound, stratum: str, count: int, reason: str) -> int:
    """Release `count` more reserves in `stratum` from the frame records not yet drawn, with
    the same SRSWOR keyed on dossier codes and a seed derived from the round's (its seed plus
    the number of this top-up), so the same frame, seed and top-ups give the same dossiers.
    Each top-up is recorded with the round (stratum, number added, reason, seed, time).
    Returns how many reserves were added (fewer than asked when the frame runs out)."""
    if not reason.strip():
        raise RoundError("Phải ghi lý do bổ sung dự phòng.")
    if count < 1:
        raise RoundError("Số hồ sơ dự phòng bổ sung phải từ 1 trở lên.")
    # Claim the round first: two top-ups at once run one after the other.
    claimed = session.execute(
        sa.update(SurveyRound)
        .where(SurveyRound.id == survey_round.id, SurveyRound.status.in_(("sampled", "fieldwork")))
        .values(status=SurveyRound.status)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        raise RoundError("Chỉ bổ sung dự phòng khi đợt đã chọn mẫu và chưa kết thúc thực địa.")
    session.refresh(survey_round)
    design = session.get(StratumDesign, (survey_round.id, stratum))
    if design is None or survey_round.seed is None:
        raise RoundError(f"Tầng {stratum} không có trong thiết kế mẫu của đợt này.")
    drawn = sa.select(SampledCase.frame_record_id).where(SampledCase.round_id == survey_round.id)
    rest = pd.DataFrame(
        session.execute(
            sa.select(FrameRecord.id, FrameRecord.dossier_code, FrameRecord.stratum).where(
                FrameRecord.round_id == survey_round.id, FrameRecord.stratum == stratum, FrameRecord.id.not_in(drawn)
            )
        ).all(),
        columns=["id", "dossier_code", "stratum"],
    )
    if rest.empty:
        raise RoundError(f"Tầng {stratum} không còn hồ sơ nào trong khung để bổ sung.")
    allocation = dict(survey_round.allocation or {})
    top_ups = list(allocation.get("top_ups", []))
    seed = int(survey_round.seed) + len(top_ups) + 1
    added = min(count, len(rest))
    plan = pd.DataFrame({"N_h": [len(rest)], "n_h": [0], "reserve_h": [added]}, index=pd.Index([stratum]))
    selection = sampling.draw(
        rest[["dossier_code", "stratum"]], plan, stratum_col="stratum", id_col="dossier_code", seed=seed
    )
    ids = dict(zip(rest["dossier_code"], rest["id"], strict=True))
    last_order, sequence = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.max(sa.case((SampledCase.stratum == stratum, SampledCase.draw_order))), 0),
            sa.func.count(),
        ).where(SampledCase.round_id == survey_round.id)
    ).one()
    rows = [
        {
            "round_id": survey_round.id,
            "frame_record_id": int(ids[row.dossier_code]),
            "stratum": stratum,
            "role": "reserve",
            "draw_order": int(last_order) + int(row.order),
            "active": False,
            "form_serial": form_serial(survey_round.id, int(sequence) + i),
        }
        for i, row in enumerate(selection.sort_values("order").itertuples(index=False), start=1)
    ]
    session.execute(sa.insert(SampledCase.__table__), rows)
    design.reserve_size += added
    top_ups.append(
        {"stratum": stratum, "added": added, "reason": reason.strip(), "seed": seed, "at": utcnow().isoformat()}
    )
    allocation["top_ups"] = top_ups
    survey_round.allocation = allocation
    session.flush()
    return added
