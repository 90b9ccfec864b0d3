"""The words of a case: type, channel, urgency, satisfaction, department level."""
from __future__ import annotations

from workflows.enums import TitledEnum


class TicketType(TitledEnum):
    CONSULTATION = "consultation", "咨询", "Consultation"
    HELP = "help", "求助", "Help request"
    COMPLAINT = "complaint", "投诉", "Complaint"
    REPORT = "report", "举报", "Report"
    SUGGESTION = "suggestion", "建议", "Suggestion"
    PRAISE = "praise", "表扬", "Praise"
    REPAIR = "repair", "报修", "Repair request"


class Channel(TitledEnum):
    PHONE = "phone", "电话", "Phone"
    WEB = "web", "网站", "Web"
    SMS = "sms", "短信", "SMS"
    FAX = "fax", "传真", "Fax"
    EMAIL = "email", "邮件", "Email"
    API = "api", "接口", "API"
    WALK_IN = "walk_in", "来访", "Walk-in"


class Urgency(TitledEnum):
    URGENT = "urgent", "紧急", "Urgent"
    UTILITIES = "utilities", "水电气热", "Utilities"
    GENERAL = "general", "一般", "General"


class Satisfaction(TitledEnum):
    SATISFIED = "satisfied", "满意", "Satisfied"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意", "Basically satisfied"
    DISSATISFIED = "dissatisfied", "不满意", "Dissatisfied"
    UNREACHABLE = "unreachable", "未联系上", "Unreachable"


class DepartmentLevel(TitledEnum):
    CITY = "city", "市级", "City"
    DISTRICT = "district", "区级", "District"
    STREET = "street", "街道", "Street"
    COMMUNITY = "community", "社区", "Community"


class ExtensionStatus(TitledEnum):
    PENDING = "pending", "待审核", "Pending"
    APPROVED = "approved", "已批准", "Approved"
    DENIED = "denied", "已驳回", "Denied"


class ReplyStatus(TitledEnum):
    PENDING = "pending", "待审核", "Pending review"
    APPROVED = "approved", "已通过", "Approved"
    REJECTED = "rejected", "已驳回", "Rejected"
    FORWARDED = "forwarded", "已上报", "Sent up to the parent unit"
