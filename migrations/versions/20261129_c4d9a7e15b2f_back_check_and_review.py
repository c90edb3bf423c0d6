"""back-check (phúc tra) and team leader's review of interviews; teams (a surveyor's team leader)

Revision ID: c4d9a7e15b2f
Revises: e322f8a878a2
Create Date: 2026-11-29 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d9a7e15b2f'
down_revision = 'e322f8a878a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_leader_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_team_leader_id'), ['team_leader_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_user_account_team_leader_id_user_account'), 'user_account', ['team_leader_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_check_constraint(
            op.f('ck_user_account_team_leader_not_self'), 'team_leader_id IS NULL OR team_leader_id <> id'
        )
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backcheck_share', sa.Float(), server_default='0.1', nullable=False))
        batch_op.create_check_constraint(op.f('ck_survey_round_backcheck_share'), 'backcheck_share > 0 AND backcheck_share <= 1')
    with op.batch_alter_table('sampled_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_status', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(op.f('ck_sampled_case_review_status'), "review_status IN ('accepted', 'returned')")

    op.create_table('interview_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision = 'accepted' OR note IS NOT NULL", name=op.f('ck_interview_review_returned_has_note')),
    sa.CheckConstraint("decision IN ('accepted', 'returned')", name=op.f('ck_interview_review_decision')),
    sa.ForeignKeyConstraint(['case_id'], ['sampled_case.id'], name=op.f('fk_interview_review_case_id_sampled_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['user_account.id'], name=op.f('fk_interview_review_reviewer_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_review'))
    )
    with op.batch_alter_table('interview_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_review_case_id'), ['case_id'], unique=False)

    op.create_table('back_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('interviewer_id', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('reached', sa.Boolean(), nullable=True),
    sa.Column('interviewed', sa.String(length=8), nullable=True),
    sa.Column('mode', sa.String(length=8), nullable=True),
    sa.Column('approx_date', sa.Date(), nullable=True),
    sa.Column('key_answer', sa.String(length=10), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('result', sa.String(length=12), nullable=True),
    sa.CheckConstraint("interviewed IN ('yes', 'no', 'unsure')", name=op.f('ck_back_check_interviewed')),
    sa.CheckConstraint("mode IN ('phone', 'face', 'unknown')", name=op.f('ck_back_check_mode')),
    sa.CheckConstraint("key_answer IN ('match', 'mismatch', 'not_asked')", name=op.f('ck_back_check_key_answer')),
    sa.CheckConstraint("result IN ('confirmed', 'discrepancy', 'unreachable')", name=op.f('ck_back_check_result')),
    sa.CheckConstraint('(result IS NULL) = (checked_at IS NULL)', name=op.f('ck_back_check_result_when_checked')),
    sa.ForeignKeyConstraint(['case_id'], ['sampled_case.id'], name=op.f('fk_back_check_case_id_sampled_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checked_by_id'], ['user_account.id'], name=op.f('fk_back_check_checked_by_id_user_account')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user_account.id'], name=op.f('fk_back_check_drawn_by_id_user_account')),
    sa.ForeignKeyConstraint(['interviewer_id'], ['user_account.id'], name=op.f('fk_back_check_interviewer_id_user_account')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'], name=op.f('fk_back_check_round_id_survey_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_back_check')),
    sa.UniqueConstraint('case_id', name=op.f('uq_back_check_case_id'))
    )
    with op.batch_alter_table('back_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_back_check_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('back_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_back_check_round_id'))
    op.drop_table('back_check')
    with op.batch_alter_table('interview_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_review_case_id'))
    op.drop_table('interview_review')
    with op.batch_alter_table('sampled_case', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sampled_case_review_status'), type_='check')
        batch_op.drop_column('review_status')
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_survey_round_backcheck_share'), type_='check')
        batch_op.drop_column('backcheck_share')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_team_leader_not_self'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_user_account_team_leader_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_account_team_leader_id'))
        batch_op.drop_column('team_leader_id')
