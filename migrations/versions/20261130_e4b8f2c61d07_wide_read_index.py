"""wide read index: the columns the wide table reads, so the read scans an index, not the rows

Replaces ix_response_questionnaire_status (its first two columns are the same, so every
query that used it can use this one; a submit still updates the same number of indexes).

Revision ID: e4b8f2c61d07
Revises: d7c3e9a15b28
Create Date: 2026-11-30 06:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b8f2c61d07'
down_revision = 'd7c3e9a15b28'
branch_labels = None
depends_on = None

WIDE_COLUMNS = [
    'questionnaire_id', 'status', 'channel', 'field_group', 'mode', 'place_id', 'counter_id', 'procedure_id',
    'id', 'submitted_at', 'coded',
]


def upgrade():
    op.create_index('ix_response_wide', 'response', WIDE_COLUMNS, unique=False)
    op.drop_index('ix_response_questionnaire_status', table_name='response')


def downgrade():
    op.create_index('ix_response_questionnaire_status', 'response', ['questionnaire_id', 'status'], unique=False)
    op.drop_index('ix_response_wide', table_name='response')
