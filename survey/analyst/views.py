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
    response = db.session.get(Response, response_id)
    if response is None:
        abort(404)
    return render_template(
        "analyst/response.html",
        response=response,
        definition=response.questionnaire.definition,
        t=lambda block: text_of(block, "vi"),
    )
