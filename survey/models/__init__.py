"""Models, one module per aggregate. Importing this package registers every table."""

from survey.models.audit import AuditLog
from survey.models.base import FIELD_GROUPS, Base
from survey.models.place import Counter, CounterFieldGroup, Place
from survey.models.procedure import LinhVucGroup, Procedure
from survey.models.questionnaire import Questionnaire, QuestionnaireDraft
from survey.models.response import Response
from survey.models.user import ROLES, User

__all__ = [
    "FIELD_GROUPS",
    "ROLES",
    "AuditLog",
    "Base",
    "Counter",
    "CounterFieldGroup",
    "LinhVucGroup",
    "Place",
    "Procedure",
    "Questionnaire",
    "QuestionnaireDraft",
    "Response",
    "User",
]
from survey.models.paper import (
    BackCheck,
    Batch,
    Discrepancy,
    FrameRecord,
    InterviewReview,
    Keying,
    PaperForm,
    PiiAccess,
    SampledCase,
    StratumDesign,
    SurveyRound,
)

__all__ += [
    "BackCheck",
    "Batch",
    "Discrepancy",
    "FrameRecord",
    "InterviewReview",
    "Keying",
    "PaperForm",
    "PiiAccess",
    "SampledCase",
    "StratumDesign",
    "SurveyRound",
]
from survey.models.snapshot import WeightingSnapshot  # noqa: E402 - after the models it refers to

__all__ += ["WeightingSnapshot"]
from survey.models.frame_mapping import FrameMappingProfile  # noqa: E402 - after the user model it refers to

__all__ += ["FrameMappingProfile"]
from survey.models.dossier_count import DossierCount, DossierCountTable  # noqa: E402

__all__ += ["DossierCount", "DossierCountTable"]
from survey.models.target import QuestionnaireTarget  # noqa: E402

__all__ += ["QuestionnaireTarget"]
from survey.models.device import DeviceSubmission  # noqa: E402

__all__ += ["DeviceSubmission"]
