from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.wrappers import Response

from survey.public import bp
from survey.security import ROLE_HOME


@bp.route("/")
def index() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOME[current_user.role]))
    return render_template("public/index.html")


@bp.route("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Yêu cầu không hợp lệ"), _("Dữ liệu gửi lên không đọc được. Vui lòng tải lại trang và thử lại.")),
        403: (_("Không có quyền truy cập"), _("Tài khoản của bạn không được phép xem trang này.")),
        404: (_("Không tìm thấy trang"), _("Địa chỉ này không tồn tại hoặc đã thay đổi.")),
        405: (_("Thao tác không được hỗ trợ"), _("Trang này không nhận thao tác vừa gửi.")),
        413: (_("Dữ liệu quá lớn"), _("Nội dung gửi lên vượt quá giới hạn cho phép.")),
        429: (
            _("Quá nhiều yêu cầu"),
            _("Bạn đã gửi quá nhiều yêu cầu trong thời gian ngắn. Vui lòng đợi một lát rồi thử lại."),
        ),
        500: (_("Lỗi hệ thống"), _("Đã có lỗi xảy ra. Vui lòng thử lại sau ít phút.")),
    }


class InvalidEncoding(BadRequest):
    """A form body that is not valid UTF-8."""


def render_error(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    title, message = _messages().get(code, (_("Lỗi"), _("Đã có lỗi xảy ra.")))
    if isinstance(error, InvalidEncoding):
        message = _("Dữ liệu gửi lên có ký tự không hợp lệ (không phải UTF-8). Vui lòng tải lại trang và nhập lại.")
    return render_template("errors/error.html", code=code, title=title, message=message), code
