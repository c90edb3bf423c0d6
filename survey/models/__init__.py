"""Models, one module per aggregate. Importing this package registers every table."""

from survey.models.audit import AuditLog
from survey.models.base import FIELD_GROUPS, Base
from survey.models.place import Counter, CounterFieldGroup, Place
from survey.models.procedure import Procedure
from survey.models.questionnaire import Questionnaire
from survey.models.response import Response
from survey.models.user import ROLES, User

__all__ = [
    "FIELD_GROUPS",
    "ROLES",
    "AuditLog",
    "Base",
    "Counter",
    "CounterFieldGroup",
    "Place",
    "Procedure",
    "Questionnaire",
    "Response",
    "User",
]
from survey.models.paper import (
    Batch,
    Discrepancy,
    FrameRecord,
    Keying,
    PaperForm,
    PiiAccess,
    SampledCase,
    StratumDesign,
    SurveyRound,
)

__all__ += [
    "Batch",
    "Discrepancy",
    "FrameRecord",
    "Keying",
    "PaperForm",
    "PiiAccess",
    "SampledCase",
    "StratumDesign",
    "SurveyRound",
]
from survey.models.snapshot import WeightingSnapshot  # noqa: E402 - after the models it refers to

__all__ += ["WeightingSnapshot"]
from survey.models.dossier_count import DossierCount, DossierCountTable  # noqa: E402

__all__ += ["DossierCount", "DossierCountTable"]
