from flask import render_template

from survey.admin import bp, queries
from survey.extensions import db
from survey.security import role_required


@bp.route("/")
@role_required("admin")
def index() -> str:
    return render_template(
        "admin/index.html",
        places=db.session.execute(queries.places_with_counter_counts()).all(),
        users=db.session.scalars(queries.users()).all(),
        questionnaires=db.session.execute(queries.questionnaires_with_response_counts()).all(),
        procedures=db.session.execute(queries.procedure_counts_by_field_group()).all(),
    )
