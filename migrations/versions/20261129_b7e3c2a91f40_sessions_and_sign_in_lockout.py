"""sessions ended server-side at logout; per-account sign-in backoff; resubmission key of QR responses

Revision ID: b7e3c2a91f40
Revises: aa102b64f6ed
Create Date: 2026-11-29 21:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e3c2a91f40'
down_revision = 'aa102b64f6ed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_nonce', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resubmit_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_response_resubmit_key'), ['resubmit_key'], unique=False)


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_resubmit_key'))
        batch_op.drop_column('resubmit_key')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('session_nonce')
