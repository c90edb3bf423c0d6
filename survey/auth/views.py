from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from survey.auth import bp
from survey.auth.forms import LoginForm
from survey.auth.services import SignIn, authenticate, end_session
from survey.extensions import db, limiter
from survey.security import ROLE_HOME, safe_next, security_event


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOME[current_user.role]))
    form = LoginForm()
    if form.validate_on_submit():
        # The login itself is not an audited change: no actor for this flush.
        db.session.info["actor_id"] = None
        attempt = authenticate(db.session, form.username.data, form.password.data)
        db.session.commit()
        if attempt.user is None:
            _refused(attempt)
        else:
            login_user(attempt.user)
            flash(_("Xin chào %(name)s.", name=attempt.user.full_name), "success")
            return redirect(safe_next(request.args.get("next")) or url_for(ROLE_HOME[attempt.user.role]))
    return render_template("auth/login.html", form=form)


def _refused(attempt: SignIn) -> None:
    security_event("login_failed", reason=attempt.reason, account=attempt.account or "-", ip=request.remote_addr)
    if attempt.reason == "locked" and attempt.locked_until is not None:
        flash(
            _(
                "Tài khoản tạm thời bị khoá do nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau %(time)s.",
                time=format_datetime(attempt.locked_until, "HH:mm"),
            ),
            "error",
        )
    else:
        flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout() -> Response:
    db.session.info["actor_id"] = None
    end_session(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("public.index"))
