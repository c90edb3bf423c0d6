"""a questionnaire per counter; targets per questionnaire and indicator

Revision ID: 5e1c7a9d3b20
Revises: c7e5a2d94f18
Create Date: 2026-11-30 03:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5e1c7a9d3b20'
down_revision = 'c7e5a2d94f18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('counter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questionnaire_slug', sa.String(length=64), nullable=True))
    op.create_table('questionnaire_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('indicator', sa.String(length=40), nullable=False),
    sa.Column('year', sa.String(length=4), nullable=False),
    sa.Column('domain', sa.String(length=20), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('target >= 0 AND target <= 100', name=op.f('ck_questionnaire_target_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_target')),
    sa.UniqueConstraint('slug', 'indicator', 'year', 'domain', name='uq_questionnaire_target')
    )
    with op.batch_alter_table('questionnaire_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_target_slug'), ['slug'], unique=False)


def downgrade():
    with op.batch_alter_table('questionnaire_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_target_slug'))
    op.drop_table('questionnaire_target')
    with op.batch_alter_table('counter', schema=None) as batch_op:
        batch_op.drop_column('questionnaire_slug')
