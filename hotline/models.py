"""Imports every model so the metadata (and Alembic) sees the whole schema."""
from hotline.auth.models import ApiToken, User  # noqa: F401
from hotline.categories.models import Category  # noqa: F401
from hotline.citizens.models import Citizen  # noqa: F401
from hotline.departments.models import Department  # noqa: F401
from hotline.escalation.models import PeriodicLock  # noqa: F401
from hotline.messaging.models import Message, MessagePart  # noqa: F401
from hotline.sla.models import CalendarDay, CalendarYear, SlaPolicy  # noqa: F401
from hotline.tickets.models import (Assignment, Attachment, Comment, ExtensionRequest, IdentityGrant,  # noqa: F401
                                    Reply, ReturnVisit, Ticket, TicketEvent, TicketSearch,
                                    TicketSequence)
from hotline.telephony.models import (Agent, Call, Callback, CallQueue, IvrFlow, MonitorRequest,  # noqa: F401
                                      OutboundRequest, Prompt, QueueEntry, QueueLogEntry, QueueMember,
                                      Recording, TelephonyWorker)
from hotline.sms.models import IncomingSms, SmsSurvey  # noqa: F401
from hotline.knowledge.models import Article, ArticleUse, ArticleVersion, KnowledgeAttachment, Synonym  # noqa: F401
from hotline.reports.models import Bulletin  # noqa: F401
from hotline.similar.models import SuggestionModel, TicketText  # noqa: F401
