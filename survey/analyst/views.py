from flask import abort, current_app, render_template, request

from survey.analyst import bp, queries
from survey.extensions import db
from survey.models import Response
from survey.questionnaire_forms import text_of
from survey.security import role_required

PAGE_SIZE = 50


@bp.route("/")
@role_required("analyst", "admin")
def index() -> str:
    return render_template(
        "analyst/index.html",
        counts=db.session.execute(queries.response_counts()).all(),
        targets=current_app.config["TARGETS"],
    )


@bp.route("/phieu")
@role_required("analyst", "admin")
def responses() -> str:
    page = db.paginate(queries.responses_newest_first(), page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE)
    return render_template("analyst/responses.html", page=page)


@bp.route("/phieu/<int:response_id>")
@role_required("analyst", "admin")
def response_detail(response_id: int) -> str:
    response = db.get_or_404(Response, response_id)
    return render_template(
        "analyst/response.html",
        response=response,
        definition=response.questionnaire.definition,
        t=lambda block: text_of(block, "vi"),
    )


def _report_from_request():  # type: ignore[no-untyped-def]
    from survey import questionnaires, reports
    from survey.models import SurveyRound

    row = questionnaires.get(db.session, current_app.config["QR_QUESTIONNAIRE"])
    if row is None:
        abort(404)
    round_id = request.args.get("dot", type=int)
    if round_id is not None:
        survey_round = db.get_or_404(SurveyRound, round_id)
        return reports.build_report(db.session, row, channel="paper", survey_round=survey_round)
    return reports.build_report(db.session, row, channel="qr")


@bp.route("/bao-cao")
@role_required("analyst", "admin")
def report() -> str:
    from survey import reports

    result = _report_from_request()
    table = result.table
    indicators = ("SIPAS", "A", "B", "C", "D", "E")

    def rows(domain_var: str, indicator_set: tuple[str, ...]) -> list[dict]:
        if table.empty:
            return []
        part = table[(table["domain_var"] == domain_var) & (table["indicator"].isin(indicator_set))]
        return part.to_dict("records")

    return render_template(
        "analyst/report.html",
        result=result,
        overall=sorted(rows("all", indicators), key=lambda r: indicators.index(r["indicator"])),
        by_group=rows("field_group", ("SIPAS",)) + rows("ldx", ("SIPAS",)),
        by_place=sorted(rows("place", ("SIPAS",)), key=lambda r: r["estimate"]),
        items=rows("all", tuple(table["indicator"].unique()) if not table.empty else ()),
        targets=current_app.config["TARGETS"],
        rounds=reports.rounds_with_responses(db.session),
        ldx_label=reports.LDX_LABEL,
    )


@bp.route("/bao-cao.csv")
@role_required("analyst", "admin")
def report_csv():  # type: ignore[no-untyped-def]
    from flask import Response as FlaskResponse

    result = _report_from_request()
    table = result.table.copy()
    if not table.empty:
        places = table["domain_var"] == "place"
        table.loc[places, "domain"] = table.loc[places, "domain"].map(result.place_names)
    name = f"sipas-{'giay-dot-' + str(result.round.id) if result.round else 'qr'}.csv"
    return FlaskResponse(
        ("\ufeff" + table.to_csv(index=False)).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
