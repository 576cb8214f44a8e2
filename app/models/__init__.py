"""SQLModel tables; importing this package registers them all on the metadata."""

from app.models.agent_thought import MessageAgentThought
from app.models.annotation import (
    AnnotationEmbedding,
    AppAnnotationHitHistory,
    AppAnnotationSetting,
    MessageAnnotation,
)
from app.models.app import ApiToken, App
from app.models.app_version import AppVersion
from app.models.conversation import Conversation, Message
from app.models.conversation_variable import ConversationVariable
from app.models.end_user import EndUser
from app.models.feedback import MessageFeedback
from app.models.file import MessageFile, UploadFile
from app.models.human_input import HumanInputForm, WorkflowPause
from app.models.trigger import AppTrigger, TriggerFire
from app.models.worker import WorkerHeartbeat
from app.models.workflow import WorkflowAppLog, WorkflowNodeExecution, WorkflowRun

__all__ = [
    "AnnotationEmbedding",
    "ApiToken",
    "App",
    "AppTrigger",
    "AppVersion",
    "AppAnnotationHitHistory",
    "AppAnnotationSetting",
    "Conversation",
    "ConversationVariable",
    "EndUser",
    "HumanInputForm",
    "Message",
    "MessageAgentThought",
    "MessageAnnotation",
    "MessageFeedback",
    "MessageFile",
    "TriggerFire",
    "UploadFile",
    "WorkflowAppLog",
    "WorkflowNodeExecution",
    "WorkflowPause",
    "WorkflowRun",
    "WorkerHeartbeat",
]
