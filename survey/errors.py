"""Error pages in the user's language, for every status the site answers with."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from survey.security import security_event

HANDLED = (400, 403, 404, 405, 413, 429, 500)


class InvalidEncoding(BadRequest):
    """A form body that is not valid UTF-8."""


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


def render_error(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    if code == 429 or isinstance(error, CSRFError):
        reason = "rate_limit" if code == 429 else "csrf"
        security_event("refused", reason=reason, endpoint=request.endpoint or "-", ip=request.remote_addr)
    title, message = _messages().get(code, (_("Lỗi"), _("Đã có lỗi xảy ra.")))
    if isinstance(error, InvalidEncoding):
        message = _("Dữ liệu gửi lên có ký tự không hợp lệ (không phải UTF-8). Vui lòng tải lại trang và nhập lại.")
    return render_template("errors/error.html", code=code, title=title, message=message), code


def refuse_invalid_utf8() -> None:
    """Werkzeug keeps undecodable %-escapes as literal text; a form body that is not UTF-8
    would be stored garbled. Refuse it instead, with a clear message."""
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True)
        try:
            unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEncoding() from None


def register_errorhandlers(app: Flask) -> None:
    for code in HANDLED:
        app.register_error_handler(code, render_error)
    app.before_request(refuse_invalid_utf8)
