from flask import Blueprint

from survey.reports.numbers import vn_number

bp = Blueprint("analyst", __name__)
bp.add_app_template_filter(vn_number, "so")

from survey.analyst import views  # noqa: E402,F401
