"""Named queries for the admin pages; callers execute or paginate them."""

import sqlalchemy as sa

from survey.models import Counter, Place, Procedure, Questionnaire, Response, User


def places_with_counter_counts() -> sa.Select:
    return (
        sa.select(Place, sa.func.count(Counter.id).label("counters"))
        .outerjoin(Counter, Counter.place_id == Place.id)
        .group_by(Place.id)
        .order_by(Place.kind, Place.name)
    )


def users() -> sa.Select:
    return sa.select(User).order_by(User.role, User.username)


def questionnaires_with_response_counts() -> sa.Select:
    return (
        sa.select(Questionnaire, sa.func.count(Response.id).label("responses"))
        .outerjoin(Response, Response.questionnaire_id == Questionnaire.id)
        .group_by(Questionnaire.id)
        .order_by(Questionnaire.slug, Questionnaire.version)
    )


def procedure_counts_by_field_group() -> sa.Select:
    return (
        sa.select(Procedure.field_group, sa.func.count())
        .group_by(Procedure.field_group)
        .order_by(Procedure.field_group)
    )
