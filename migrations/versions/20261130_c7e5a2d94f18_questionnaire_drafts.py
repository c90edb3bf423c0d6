"""questionnaire drafts uploaded on the admin pages

Revision ID: c7e5a2d94f18
Revises: a4d9c1f27b53
Create Date: 2026-11-30 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c7e5a2d94f18'
down_revision = 'a4d9c1f27b53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('questionnaire_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('declared_version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('questionnaire_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published', 'discarded')", name=op.f('ck_questionnaire_draft_status')),
    sa.CheckConstraint("status = 'published' OR questionnaire_id IS NULL", name=op.f('ck_questionnaire_draft_published')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_questionnaire_draft_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_questionnaire_draft_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire.id'], name=op.f('fk_questionnaire_draft_questionnaire_id_questionnaire')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_draft')),
    sa.UniqueConstraint('questionnaire_id', name=op.f('uq_questionnaire_draft_questionnaire_id'))
    )
    with op.batch_alter_table('questionnaire_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_draft_slug'), ['slug'], unique=False)


def downgrade():
    with op.batch_alter_table('questionnaire_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_draft_slug'))
    op.drop_table('questionnaire_draft')
