from flask import current_app, render_template

from survey.analyst import bp, queries
from survey.extensions import db
from survey.security import role_required


@bp.route("/")
@role_required("analyst", "admin")
def index() -> str:
    return render_template(
        "analyst/index.html",
        counts=db.session.execute(queries.response_counts()).all(),
        targets=current_app.config["TARGETS"],
    )
