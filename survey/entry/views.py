from flask import render_template

from survey.entry import bp
from survey.security import role_required


@bp.route("/")
@role_required("supervisor", "surveyor")
def index() -> str:
    return render_template("entry/index.html")
