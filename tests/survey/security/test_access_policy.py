"""Who may open what: one table with every route of the URL map, checked for an anonymous
visitor and each role. A new route without a line here fails `test_every_route_has_a_policy`.

Allowed means "not sent to sign in and not 403" (a made-up id may well be a 404); refused
means 403 for a signed-in user of another role and a redirect to the sign-in page for an
anonymous visitor. Denials happen before a view reads the request, so POSTs are safe here."""

from __future__ import annotations

import re

import pytest

PUBLIC = "public"
SIGNED_IN = "signed-in"
ADMIN = frozenset({"admin"})
ANALYSTS = frozenset({"analyst", "admin"})
STAFF = frozenset({"supervisor", "surveyor"})
SUPERVISOR = frozenset({"supervisor"})
SURVEYOR = frozenset({"surveyor"})
ROLES = ("surveyor", "supervisor", "analyst", "admin")

POLICY: dict[tuple[str, str], str | frozenset[str]] = {
    ("static", "/static/<path:filename>"): PUBLIC,
    ("public.index", "/"): PUBLIC,
    ("public.healthz", "/healthz"): PUBLIC,
    ("public.readyz", "/readyz"): PUBLIC,
    ("public.enter_code", "/q"): PUBLIC,
    ("public.questionnaire", "/q/<code>"): PUBLIC,
    ("public.thanks", "/cam-on/<receipt>"): PUBLIC,
    ("auth.login", "/dang-nhap"): PUBLIC,
    ("auth.logout", "/dang-xuat"): SIGNED_IN,
    ("admin.index", "/admin/"): ADMIN,
    ("admin.place", "/admin/noi-tiep-nhan/moi"): ADMIN,
    ("admin.place", "/admin/noi-tiep-nhan/<int:place_id>"): ADMIN,
    ("admin.counter", "/admin/noi-tiep-nhan/<int:place_id>/quay/moi"): ADMIN,
    ("admin.counter", "/admin/quay/<int:counter_id>"): ADMIN,
    ("admin.rotate_code", "/admin/quay/<int:counter_id>/doi-ma"): ADMIN,
    ("admin.counter_poster", "/admin/quay/<int:counter_id>/ap-phich.pdf"): ADMIN,
    ("admin.place_posters", "/admin/noi-tiep-nhan/<int:place_id>/ap-phich.pdf"): ADMIN,
    ("admin.all_posters", "/admin/ap-phich.pdf"): ADMIN,
    ("admin.counter_qr", "/admin/quay/<int:counter_id>/qr.<any(png, svg):fmt>"): ADMIN,
    ("admin.set_team", "/admin/tai-khoan/<int:user_id>/to"): ADMIN,
    ("admin.linh_vuc_table", "/admin/linh-vuc"): ADMIN,
    ("admin.linh_vuc_row", "/admin/linh-vuc/<int:row_id>"): ADMIN,
    ("admin.delete_linh_vuc", "/admin/linh-vuc/<int:row_id>/xoa"): ADMIN,
    ("admin.questionnaires", "/admin/phieu-khao-sat"): ADMIN,
    ("admin.upload_questionnaire", "/admin/phieu-khao-sat/tai-len"): ADMIN,
    ("admin.draft", "/admin/phieu-khao-sat/nhap/<int:draft_id>"): ADMIN,
    ("admin.draft_citizen_preview", "/admin/phieu-khao-sat/nhap/<int:draft_id>/xem-truoc"): ADMIN,
    ("admin.draft_keying_preview", "/admin/phieu-khao-sat/nhap/<int:draft_id>/nhap-lieu"): ADMIN,
    ("admin.publish_draft", "/admin/phieu-khao-sat/nhap/<int:draft_id>/cong-bo"): ADMIN,
    ("admin.discard_draft", "/admin/phieu-khao-sat/nhap/<int:draft_id>/huy"): ADMIN,
    ("admin.targets", "/admin/chi-tieu"): ADMIN,
    ("admin.targets", "/admin/chi-tieu/<slug>"): ADMIN,
    ("admin.delete_target", "/admin/chi-tieu/<slug>/<int:target_id>/xoa"): ADMIN,
    ("analyst.index", "/phan-tich/"): ANALYSTS,
    ("analyst.responses", "/phan-tich/phieu"): ANALYSTS,
    ("analyst.response_detail", "/phan-tich/phieu/<int:response_id>"): ANALYSTS,
    ("analyst.report", "/phan-tich/bao-cao"): ANALYSTS,
    ("analyst.report_csv", "/phan-tich/bao-cao.csv"): ANALYSTS,
    ("analyst.rounds", "/phan-tich/dot"): ANALYSTS,
    ("analyst.round_detail", "/phan-tich/dot/<int:round_id>"): ANALYSTS,
    ("analyst.upload_frame", "/phan-tich/dot/<int:round_id>/khung"): ANALYSTS,
    ("analyst.frame_problems", "/phan-tich/dot/<int:round_id>/khung/<token>/loi.csv"): ANALYSTS,
    ("analyst.confirm_frame", "/phan-tich/dot/<int:round_id>/khung/<token>/xac-nhan"): ANALYSTS,
    ("analyst.frame_mapping", "/phan-tich/dot/<int:round_id>/khung/<token>/anh-xa"): ANALYSTS,
    ("analyst.mapping_profiles", "/phan-tich/anh-xa-cot"): ANALYSTS,
    ("analyst.delete_mapping_profile", "/phan-tich/anh-xa-cot/<int:profile_id>/xoa"): ANALYSTS,
    ("analyst.draw", "/phan-tich/dot/<int:round_id>/chon-mau"): ANALYSTS,
    ("analyst.verification", "/phan-tich/dot/<int:round_id>/kiem-tra-cheo"): ANALYSTS,
    ("analyst.purge", "/phan-tich/dot/<int:round_id>/xoa-thong-tin-ca-nhan"): ADMIN,
    ("analyst.close_round", "/phan-tich/dot/<int:round_id>/ket-thuc"): ANALYSTS,
    ("analyst.draw_preview", "/phan-tich/dot/<int:round_id>/chon-mau/xem-truoc"): ANALYSTS,
    ("analyst.undo", "/phan-tich/dot/<int:round_id>/huy-chon-mau"): ANALYSTS,
    ("analyst.top_up", "/phan-tich/dot/<int:round_id>/bo-sung-du-phong"): ANALYSTS,
    ("analyst.back_check", "/phan-tich/dot/<int:round_id>/phuc-tra"): ANALYSTS,
    ("analyst.back_check_draw", "/phan-tich/dot/<int:round_id>/phuc-tra/chon"): ANALYSTS,
    ("analyst.back_check_case", "/phan-tich/phuc-tra/<int:check_id>"): ANALYSTS,
    ("analyst.progress_export", "/phan-tich/dot/<int:round_id>/tien-do.<any(csv, xlsx):ext>"): ANALYSTS,
    ("analyst.snapshot_list", "/phan-tich/quyen-so"): ANALYSTS,
    ("analyst.snapshot_paper", "/phan-tich/quyen-so/giay"): ANALYSTS,
    ("analyst.snapshot_qr", "/phan-tich/quyen-so/qr"): ANALYSTS,
    ("analyst.dashboard", "/phan-tich/quyen-so/<int:snapshot_id>"): ANALYSTS,
    ("analyst.trend", "/phan-tich/quyen-so/<int:snapshot_id>/xu-huong"): ANALYSTS,
    ("analyst.annual_report", "/phan-tich/quyen-so/<int:snapshot_id>/bao-cao-nam"): ANALYSTS,
    ("analyst.annual_report_pdf", "/phan-tich/quyen-so/<int:snapshot_id>/bao-cao-nam.pdf"): ANALYSTS,
    ("analyst.snapshot_export", "/phan-tich/quyen-so/<int:snapshot_id>/<string:name>.<string:ext>"): ANALYSTS,
    ("analyst.counts", "/phan-tich/so-ho-so"): ANALYSTS,
    ("analyst.comment_list", "/phan-tich/y-kien"): ANALYSTS,
    ("analyst.comment_csv", "/phan-tich/y-kien.csv"): ANALYSTS,
    ("entry.index", "/nhap-phieu/"): STAFF,
    ("entry.assignments", "/nhap-phieu/dot/<int:round_id>/phan-cong"): SUPERVISOR,
    ("entry.case", "/nhap-phieu/truong-hop/<int:case_id>"): STAFF,
    ("entry.assignment_sheet", "/nhap-phieu/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>"): STAFF,
    ("entry.serial_qr", "/nhap-phieu/phieu-qr/<serial>.svg"): STAFF,
    ("entry.assignment_sheet_pdf", "/nhap-phieu/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>.pdf"): STAFF,
    ("entry.printed_forms", "/nhap-phieu/dot/<int:round_id>/bang-phan-cong/<int:surveyor_id>/phieu.pdf"): STAFF,
    ("entry.batches", "/nhap-phieu/dot/<int:round_id>/lo"): STAFF,
    ("entry.batch", "/nhap-phieu/lo/<int:batch_id>"): STAFF,
    ("entry.key_form", "/nhap-phieu/nhap/<int:keying_id>"): STAFF,
    ("entry.adjudicate", "/nhap-phieu/phieu/<int:form_id>/doi-chieu"): SUPERVISOR,
    ("entry.review_list", "/nhap-phieu/dot/<int:round_id>/duyet"): SUPERVISOR,
    ("entry.review_case", "/nhap-phieu/truong-hop/<int:case_id>/duyet"): SUPERVISOR,
    ("entry.progress_page", "/nhap-phieu/dot/<int:round_id>/tien-do"): SUPERVISOR,
    ("entry.progress_export", "/nhap-phieu/dot/<int:round_id>/tien-do.<any(csv, xlsx):ext>"): SUPERVISOR,
    # the interviewer app: its shell and API are the interviewer's; the worker and the
    # manifest hold no data (the browser fetches them without asking who is signed in)
    ("entry.device_app", "/nhap-phieu/may/"): SURVEYOR,
    ("entry.device_worker", "/nhap-phieu/may/sw.js"): PUBLIC,
    ("entry.device_manifest", "/nhap-phieu/may/manifest.webmanifest"): PUBLIC,
    ("entry.device_cases", "/nhap-phieu/may/api/ca"): SURVEYOR,
    ("entry.device_token", "/nhap-phieu/may/api/token"): SURVEYOR,
    ("entry.device_sync", "/nhap-phieu/may/api/gui"): SURVEYOR,
    ("entry.device_conflicts", "/nhap-phieu/dot/<int:round_id>/may-xung-dot"): SUPERVISOR,
    ("entry.device_decide", "/nhap-phieu/may/xung-dot/<int:submission_id>"): SUPERVISOR,
}


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for every route and method, logout last."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, rule.rule, method))
    return sorted(out, key=lambda r: (r[0] == "auth.logout", r))


def example_url(rule: str, user_id: int | None = None) -> str:
    """A concrete address for a rule: ids that do not exist (a surveyor's own id where the
    page is a surveyor's own: another's is refused by the page), the first choice of an `any`."""
    url = rule.replace("<int:surveyor_id>", str(user_id or 999999))
    url = re.sub(r"<int:[^>]+>", "999999", url)
    url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)
    url = re.sub(r"<path:[^>]+>", "css/site.css", url)
    return re.sub(r"<[^>]+>", "x", url)


def test_every_route_has_a_policy(app) -> None:
    in_map = {(endpoint, rule) for endpoint, rule, _ in routes(app)}
    assert in_map - POLICY.keys() == set(), "new routes need a line in POLICY"
    assert POLICY.keys() - in_map == set(), "POLICY names routes that no longer exist"


def check(client, principal: str, user_id: int | None, endpoint: str, rule: str, method: str) -> str | None:
    policy = POLICY[(endpoint, rule)]
    response = client.open(example_url(rule, user_id), method=method)
    response.close()
    to_login = response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")
    allowed = policy == PUBLIC or (principal != "anonymous" and (policy == SIGNED_IN or principal in policy))
    if allowed and (to_login or response.status_code == 403):
        return f"{principal} refused {method} {rule} ({response.status_code})"
    if not allowed and principal == "anonymous" and not to_login:
        return f"anonymous not sent to sign in for {method} {rule} ({response.status_code})"
    if not allowed and principal != "anonymous" and response.status_code != 403:
        return f"{principal} not refused {method} {rule} ({response.status_code})"
    if response.status_code >= 500:
        return f"{principal} got {response.status_code} for {method} {rule}"
    return None


@pytest.mark.parametrize("principal", ["anonymous", *ROLES])
def test_the_policy_holds_for_every_route(app, client, login_as, demo, principal: str) -> None:
    user_id = login_as(principal).id if principal != "anonymous" else None
    problems = [check(client, principal, user_id, *route) for route in routes(app)]
    assert [p for p in problems if p] == []


def test_a_new_route_without_a_policy_fails_the_check(tmp_path) -> None:
    from survey import create_app

    app = create_app({"SECRET_KEY": "s" * 40, "TESTING": True}, instance_path=str(tmp_path))
    app.add_url_rule("/bao-cao-moi", "report_new", lambda: "x")
    with pytest.raises(AssertionError, match="new routes need a line in POLICY"):
        test_every_route_has_a_policy(app)
