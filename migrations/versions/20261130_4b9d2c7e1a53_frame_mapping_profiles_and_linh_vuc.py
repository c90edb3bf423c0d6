"""frame mapping profiles and the lĩnh vực → field group table

Revision ID: 4b9d2c7e1a53
Revises: c4d9a7e15b2f
Create Date: 2026-11-29 23:50:00

The lĩnh vực table is seeded with the national names that were in the code
(survey.paper.procedures.DEFAULT_LINH_VUC at this revision; copied here so that the
migration does not change when the code does).
"""
import re
import unicodedata
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text  # autogenerate writes JSONB(astext_type=Text())
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '4b9d2c7e1a53'
down_revision = 'c4d9a7e15b2f'
branch_labels = None
depends_on = None

SEED = (
    ("Đất đai", "dat_dai"),
    ("Đo đạc, bản đồ và thông tin địa lý", "dat_dai"),
    ("Xây dựng", "xay_dung"),
    ("Hoạt động xây dựng", "xay_dung"),
    ("Quy hoạch xây dựng, kiến trúc", "xay_dung"),
    ("Quy hoạch xây dựng", "xay_dung"),
    ("Kiến trúc", "xay_dung"),
    ("Nhà ở", "xay_dung"),
    ("Đầu tư", "dau_tu"),
    ("Đầu tư tại Việt Nam", "dau_tu"),
    ("Đầu tư vào Việt Nam", "dau_tu"),
    ("Đầu tư công", "dau_tu"),
    ("Đầu tư theo phương thức đối tác công tư", "dau_tu"),
    ("Đầu tư ra nước ngoài", "dau_tu"),
)


def _plain(text):
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).strip().lower().replace("_", " "))
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d")


def upgrade():
    op.create_table('frame_mapping_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('columns', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_frame_mapping_profile_name_not_empty')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_frame_mapping_profile_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frame_mapping_profile')),
    sa.UniqueConstraint('name', name=op.f('uq_frame_mapping_profile_name'))
    )
    linh_vuc = op.create_table('linh_vuc_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('field_group', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("field_group IN ('dat_dai', 'xay_dung', 'dau_tu', 'khac')", name=op.f('ck_linh_vuc_group_field_group')),
    sa.CheckConstraint('length(name_key) > 0', name=op.f('ck_linh_vuc_group_name_key_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_linh_vuc_group')),
    sa.UniqueConstraint('name_key', name=op.f('uq_linh_vuc_group_name_key'))
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        linh_vuc,
        [{"name": name, "name_key": _plain(name), "field_group": group, "updated_at": now} for name, group in SEED],
    )


def downgrade():
    op.drop_table('linh_vuc_group')
    op.drop_table('frame_mapping_profile')
