"""dossier counts imported from the one-stop system

Revision ID: a4d9c1f27b53
Revises: 4b9d2c7e1a53
Create Date: 2026-11-29 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a4d9c1f27b53'
down_revision = '4b9d2c7e1a53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dossier_count_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('cells', sa.Integer(), nullable=False),
    sa.Column('dossiers', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('dossiers >= 0', name=op.f('ck_dossier_count_table_dossiers')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_dossier_count_table_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_dossier_count_table_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_count_table'))
    )
    op.create_table('dossier_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('field_group', sa.String(length=10), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('dossiers', sa.Integer(), nullable=False),
    sa.CheckConstraint('dossiers >= 0', name=op.f('ck_dossier_count_dossiers')),
    sa.CheckConstraint("field_group IN ('dat_dai', 'xay_dung', 'dau_tu', 'khac')", name=op.f('ck_dossier_count_field_group')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_dossier_count_period')),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], name=op.f('fk_dossier_count_place_id_place')),
    sa.ForeignKeyConstraint(['table_id'], ['dossier_count_table.id'], name=op.f('fk_dossier_count_table_id_dossier_count_table'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_count')),
    sa.UniqueConstraint('table_id', 'place_id', 'field_group', 'period_start', 'period_end', name='uq_dossier_count_cell')
    )


def downgrade():
    op.drop_table('dossier_count')
    op.drop_table('dossier_count_table')
