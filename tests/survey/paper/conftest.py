from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def survey_round(db, demo):
    from survey import questionnaires
    from survey.paper.rounds import create_round

    row = questionnaires.get(db.session, "sipas-dich-vu")
    created = create_round(
        db.session, name="Quý I/2026", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), questionnaire=row
    )
    db.session.commit()
    return created


HEADER = "Mã hồ sơ,Mã TTHC,Lĩnh vực,Nhóm lĩnh vực,Nơi tiếp nhận,Ngày trả kết quả,Họ tên,Số điện thoại,Địa chỉ"


def frame_csv(n_per_stratum: dict[tuple[str, str], int], *, start: int = 1) -> str:
    """A frame export with `n` dossiers for each (place code, field group label)."""
    lines = [HEADER]
    i = start
    for (place, group), n in n_per_stratum.items():
        for _ in range(n):
            day = 1 + i % 28
            lines.append(
                f"HS-{i:07d},DD.01,Đất đai,{group},{place},{day:02d}/02/2026,Nguyễn Văn {i},09{i:08d},Số {i} đường Lý Thái Tổ"
            )
            i += 1
    return "\n".join(lines) + "\n"
