"""interviewer app: device submissions, the mode and paradata of a response

Revision ID: d7c3e9a15b28
Revises: 5e1c7a9d3b20
Create Date: 2026-11-30 03:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'd7c3e9a15b28'
down_revision = '5e1c7a9d3b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('duration_s', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_response_mode'), "mode IN ('paper', 'face', 'phone')")

    op.create_table('device_submission',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('mode', sa.String(length=8), nullable=True),
    sa.Column('replacement_reason', sa.String(length=300), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('conflict', sa.String(length=300), nullable=True),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("kind IN ('interview', 'outcome')", name=op.f('ck_device_submission_kind')),
    sa.CheckConstraint("status IN ('recorded', 'conflict', 'accepted', 'set_aside')", name=op.f('ck_device_submission_status')),
    sa.CheckConstraint("mode IN ('face', 'phone')", name=op.f('ck_device_submission_mode')),
    sa.ForeignKeyConstraint(['case_id'], ['sampled_case.id'], name=op.f('fk_device_submission_case_id_sampled_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_device_submission_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['interviewer_id'], ['user_account.id'], name=op.f('fk_device_submission_interviewer_id_user_account')),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], name=op.f('fk_device_submission_response_id_response')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_device_submission_round_id_survey_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_submission')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_device_submission_idempotency_key'))
    )
    with op.batch_alter_table('device_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_submission_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_submission_received_at'), ['received_at'], unique=False)
        batch_op.create_index('ix_device_submission_round_status', ['round_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('device_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_device_submission_round_status')
        batch_op.drop_index(batch_op.f('ix_device_submission_received_at'))
        batch_op.drop_index(batch_op.f('ix_device_submission_case_id'))
    op.drop_table('device_submission')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_response_mode'), type_='check')
        batch_op.drop_column('duration_s')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('mode')
