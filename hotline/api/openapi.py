"""The OpenAPI 3 description of /api/v1, built from the same enums the server checks."""
from __future__ import annotations

from functools import lru_cache

from hotline.knowledge.attachments import MAX_FILES
from hotline.knowledge.models import ArticleState
from hotline.messaging.models import MessageChannel, MessageState
from workflows.states import Action, AssignmentRole, AssignmentStatus, TicketStatus
from workflows.vocabulary import Channel, Satisfaction, TicketType, Urgency


def _enum(cls) -> dict:
    return {"type": "string", "enum": cls.values()}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {str(code): {"$ref": f"#/components/responses/E{code}"} for code in (400, 401, 403, 404, 409, 422, 429)}
OBJ = {"type": "object"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
NUM = {"type": "number"}
TIME = {"type": "string", "format": "date-time", "nullable": True}

ACTION_FIELDS: dict[Action, tuple[dict, list[str]]] = {
    Action.ANSWER: ({"reply": STR}, ["reply"]),
    Action.DISPATCH: ({"department": INT, "assist": {"type": "array", "items": INT}, "note": STR}, ["department"]),
    Action.SIGN: ({}, []),
    Action.RETURN: ({"reason": STR}, ["reason"]),
    Action.REVIEW_RETURN: ({"approve": BOOL, "department": INT, "note": STR}, ["approve"]),
    Action.SUB_DISPATCH: ({"department": INT, "note": STR}, ["department"]),
    Action.REQUEST_EXTENSION: ({"days": {"type": "integer", "minimum": 1, "maximum": 10}, "reason": STR},
                               ["days", "reason"]),
    Action.REVIEW_EXTENSION: ({"approve": BOOL, "note": STR, "assignment": INT}, ["approve"]),
    Action.REPLY: ({"content": STR, "contacted_citizen": BOOL}, ["content"]),
    Action.PROGRESS: ({"text": {"type": "string", "maxLength": 1000},
                       "public": {"type": "boolean", "default": True,
                                  "description": "shown to the citizen on the portal and texted to them"}},
                      ["text"]),
    Action.REVIEW_REPLY: ({"approve": BOOL, "note": STR}, ["approve"]),
    Action.VISIT: ({"satisfaction": _enum(Satisfaction), "resolved": BOOL, "note": STR}, ["satisfaction"]),
    Action.REOPEN: ({"reason": STR, "department": INT}, ["reason"]),
    Action.URGE: ({"note": STR}, []),
    Action.SUPERVISE: ({"note": STR}, []),
    Action.MERGE: ({"into": STR}, ["into"]),
    Action.CANCEL: ({"reason": STR}, ["reason"]),
    Action.COMMENT: ({"content": STR, "internal": BOOL}, ["content"]),
    Action.GRANT_IDENTITY: ({"department": INT, "reason": STR}, ["department", "reason"]),
}


def _query(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


@lru_cache(maxsize=1)
def spec() -> dict:
    number = {"name": "number", "in": "path", "required": True, "schema": STR}
    article_id = {"name": "article_id", "in": "path", "required": True, "schema": INT}
    file_id = {"name": "file_id", "in": "path", "required": True, "schema": INT}
    page = [_query("page", {"type": "integer", "minimum": 1}), _query("per_page", {"type": "integer", "minimum": 1,
                                                                                   "maximum": 200})]
    filters = [
        _query("status", STR, "one or more statuses, comma separated"), _query("type", _enum(TicketType)),
        _query("channel", _enum(Channel)), _query("urgency", _enum(Urgency)),
        _query("department", INT, "orders assigned to this department"),
        _query("overdue", BOOL), _query("sla", {"type": "string", "enum": ["green", "yellow", "red"]}),
        _query("phone", STR), _query("q", STR, "number, subject or content"), _query("category", STR),
        _query("created_from", {"type": "string", "format": "date"}),
        _query("created_to", {"type": "string", "format": "date"}),
        _query("sort", {"type": "string", "enum": ["-created_at", "created_at", "due_at", "-due_at", "number",
                                                   "-number"]}),
    ]
    paths: dict = {
        "/tickets": {
            "get": {"summary": "List work orders", "parameters": page + filters,
                    "responses": {"200": _json(_ref("TicketPage")), **ERRORS}},
            "post": {"summary": "Register a case", "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("NewTicket")}}},
                "responses": {"201": _json(_ref("Ticket"), "Registered"), **ERRORS}},
        },
        "/tickets/export.csv": {"get": {"summary": "Export the filtered list as CSV", "parameters": filters,
                                        "responses": {"200": {"description": "CSV", "content": {
                                            "text/csv": {"schema": STR}}}, **ERRORS}}},
        "/tickets/{number}": {"get": {"summary": "One work order", "parameters": [number],
                                      "responses": {"200": _json(_ref("Ticket")), **ERRORS}}},
        "/tickets/{number}/similar": {"get": {
            "summary": "Merge candidates (centre roles): open orders of the last SIMILAR_DAYS days with similar "
                       "content, the same address or the same caller, best first; reasons: text (with its "
                       "similarity), address, caller; score 0 to 1",
            "parameters": [number],
            "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": {
                "type": "object", "properties": {"ticket": OBJ, "score": NUM,
                                                 "reasons": {"type": "object", "additionalProperties": NUM}}}}}}),
                          **ERRORS}}},
        "/suggestions/department": {"post": {
            "summary": "The three departments most likely to handle a case, learned from orders dispatched and "
                       "not returned, each with its confidence; when unsure the category's default department "
                       "leads (fallback_to_category_default)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"text": STR, "category": {"type": "string",
                                                                          "description": "a category code"},
                                                 "address": STR}}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "department": OBJ, "confidence": NUM}}},
                "fallback_to_category_default": {"type": "boolean"}}}), **ERRORS}}},
        "/tickets/{number}/messages": {"get": {
            "summary": "Every notice sent about the order (SMS, in-app ...) with its delivery state; centre roles only",
            "parameters": [number],
            "responses": {"200": _json({"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("Message")}}}), **ERRORS}}},
        "/tickets/{number}/events": {"get": {"summary": "The audit trail, oldest first", "parameters": [number],
                                             "responses": {"200": _json({"type": "object", "properties": {
                                                 "items": {"type": "array", "items": _ref("Event")}}}), **ERRORS}}},
        "/tickets/{number}/attachments": {"post": {
            "summary": "Attach a file (JPEG, PNG, GIF, WebP, TIFF, PDF, WAV, MP3, DOCX, XLSX)",
            "parameters": [number],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "properties": {"file": {"type": "string", "format": "binary"},
                                                 "confidential": BOOL}, "required": ["file"]}}}},
            "responses": {"201": _json(OBJ, "Stored"), **ERRORS}}},
        "/tickets/{number}/attachments/{attachment_id}": {"get": {
            "summary": "Download an attachment",
            "parameters": [number, {"name": "attachment_id", "in": "path", "required": True, "schema": INT}],
            "responses": {"200": {"description": "The file"}, **ERRORS}}},
        "/citizens": {"get": {"summary": "A caller and their earlier orders, newest first",
                              "parameters": [{"name": "phone", "in": "query", "required": True, "schema": STR}],
                              "responses": {"200": _json(OBJ), **ERRORS}}},
        "/departments": {"get": {"summary": "The department tree", "responses": {"200": _json(OBJ), **ERRORS}}},
        "/categories": {"get": {"summary": "The case categories", "responses": {"200": _json(OBJ), **ERRORS}}},
        "/reports/departments": {"get": {
            "summary": "Per-department measures (DOMAIN.md)",
            "parameters": [_query("from", {"type": "string", "format": "date"}),
                           _query("to", {"type": "string", "format": "date"})],
            "responses": {"200": _json(OBJ), **ERRORS}}},
        "/knowledge": {
            "get": {"summary": "Search the knowledge base: articles in force, best first, with a snippet marking "
                               "the words found. Without a token: published public articles only (the portal)",
                    "security": [{"bearer": []}, {}],
                    "parameters": [_query("q", {"type": "string", "maxLength": 2000},
                                          "the caller's question in their words (2 to 2000 characters); "
                                          "empty: the most used articles"), *page],
                    "responses": {"200": _json(_ref("KnowledgeResults")), **ERRORS}},
            "post": {"summary": "Write a new article (administrators, department staff for their department); "
                                "a draft until reviewed",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": _ref("KnowledgeInput")}}},
                     "responses": {"201": _json(_ref("KnowledgeArticle"), "Created"), **ERRORS}}},
        "/knowledge/{article_id}": {
            "get": {"summary": "One article with its body (safe HTML)", "security": [{"bearer": []}, {}],
                    "parameters": [article_id],
                    "responses": {"200": _json(_ref("KnowledgeArticle")), **ERRORS}},
            "put": {"summary": "Edit an article (a new version; a published article edited by someone who may "
                               "not review it goes back to review)", "parameters": [article_id],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("KnowledgeInput")}}},
                    "responses": {"200": _json(_ref("KnowledgeArticle")), **ERRORS}}},
        "/knowledge/{article_id}/publish": {"post": {
            "summary": "Publish a draft or an article awaiting review (administrators, the owning department's "
                       "administrator); the reviewer is recorded", "parameters": [article_id],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"note": STR}}}}},
            "responses": {"200": _json(_ref("KnowledgeArticle")), **ERRORS}}},
        "/knowledge/{article_id}/uses": {"post": {
            "summary": "Record that the article answered a caller (counts in the ranking)", "parameters": [article_id],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"ticket": {"type": "string", "description": "an order number"}}}}}},
            "responses": {"201": _json(_ref("KnowledgeArticle"), "Recorded"), **ERRORS}}},
        "/knowledge/{article_id}/attachments": {
            "get": {"summary": "The article's files, oldest first, for whoever may read the article (without a "
                               "token: published public articles in force)", "security": [{"bearer": []}, {}],
                    "parameters": [article_id],
                    "responses": {"200": _json({"type": "object", "properties": {
                        "items": {"type": "array", "items": _ref("KnowledgeAttachment")}}}), **ERRORS}},
            "post": {"summary": f"Add files to an article (its editors), all or none; each at most the upload "
                                f"limit, at most {MAX_FILES} an article; JPEG, PNG, GIF, WebP, TIFF, PDF, WAV, MP3, "
                                "DOCX, XLSX. A new version; a published article changed by someone who may not "
                                "review it goes back to review", "parameters": [article_id],
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                         "type": "object", "properties": {"files": {"type": "array", "items": {
                             "type": "string", "format": "binary"}}}, "required": ["files"]}}}},
                     "responses": {"201": _json({"type": "object", "properties": {
                         "items": {"type": "array", "items": _ref("KnowledgeAttachment")},
                         "article": _ref("KnowledgeArticle")}}, "Stored"), **ERRORS}}},
        "/knowledge/{article_id}/attachments/{file_id}": {
            "get": {"summary": "Download one file of the article", "security": [{"bearer": []}, {}],
                    "parameters": [article_id, file_id],
                    "responses": {"200": {"description": "The file, as an attachment"}, **ERRORS}},
            "delete": {"summary": "Take a file off the article (its editors): a new version, reviewed as an edit",
                       "parameters": [article_id, file_id],
                       "responses": {"200": _json(_ref("KnowledgeArticle")), **ERRORS}}},
        "/health": {"get": {"summary": "Liveness of the database, broker and gateways", "security": [],
                            "responses": {"200": _json(OBJ), "503": _json(OBJ, "Degraded")}}},
        "/me": {"get": {"summary": "The calling user", "responses": {"200": _json(OBJ), **ERRORS}}},
        "/calendar": {"get": {"summary": "The working-day calendar of one year",
                              "parameters": [{"name": "year", "in": "query", "required": True, "schema": INT}],
                              "responses": {"200": _json(OBJ), **ERRORS}}},
        "/calendar/{day}": {"put": {
            "summary": "Mark a day as working or not (administrators)",
            "parameters": [{"name": "day", "in": "path", "required": True,
                            "schema": {"type": "string", "format": "date"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["is_workday"], "properties": {"is_workday": BOOL, "note": STR}}}}},
            "responses": {"200": _json(OBJ), "503": _json(OBJ, "Year not in the calendar"), **ERRORS}}},
        "/sla-policies": {"get": {"summary": "Deadline policies", "responses": {"200": _json(OBJ), **ERRORS}}},
        "/sla-policies/{policy_id}": {"put": {
            "summary": "Change a deadline policy (administrators)",
            "parameters": [{"name": "policy_id", "in": "path", "required": True, "schema": INT}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["amount"], "properties": {
                    "amount": {"type": "integer", "minimum": 0},
                    "unit": {"type": "string", "enum": ["minutes", "working_days"]}}}}}},
            "responses": {"200": _json(OBJ), **ERRORS}}},
    }
    for action, (props, required) in ACTION_FIELDS.items():
        body = {"type": "object", "properties": props}
        if required:
            body["required"] = required
        paths[f"/tickets/{{number}}/{action.value}"] = {"post": {
            "summary": f"{action.en} ({action.zh})", "parameters": [number],
            "requestBody": {"required": bool(required), "content": {"application/json": {"schema": body}}},
            "responses": {"200": _json(_ref("Ticket")), **ERRORS}}}
    error_schema = {"type": "object", "properties": {"error": {"type": "object", "properties": {
        "code": STR, "message": STR, "fields": {"type": "object", "additionalProperties": STR}}}}}
    sla_schema = {"type": "object", "properties": {"state": {"type": "string", "enum": ["green", "yellow", "red"]},
                                                   "due_at": TIME}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hotline work-order API", "version": "1",
                 "description": "Integration API of the government service hotline (12345). "
                                "Errors share one shape; lists are paginated."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {f"E{code}": _json(error_schema, text) for code, text in (
                (400, "Bad input"), (401, "No or bad token"), (403, "Not allowed"), (404, "Not found"),
                (409, "Not allowed in the current state"), (422, "Invalid fields"), (429, "Rate limited"))},
            "schemas": {
                "Error": error_schema,
                "NewTicket": {"type": "object", "required": ["type", "subject", "content"], "properties": {
                    "type": _enum(TicketType), "channel": _enum(Channel),
                    "citizen": {"type": "object", "properties": {"name": STR, "phone": STR}},
                    "subject": {"type": "string", "maxLength": 200}, "content": STR, "category": STR,
                    "urgency": _enum(Urgency), "address": STR, "lat": {"type": "number"}, "lon": {"type": "number"},
                    "is_confidential": BOOL}},
                "Assignment": {"type": "object", "properties": {
                    "department": OBJ, "role": _enum(AssignmentRole), "status": _enum(AssignmentStatus),
                    "dispatched_at": TIME, "sign_due_at": TIME, "signed_at": TIME, "reply_due_at": TIME,
                    "replied_at": TIME, "last_progress_at": {
                        **TIME, "description": "the department's last word: sign-for, progress note or reply"}}},
                "Ticket": {"type": "object", "properties": {
                    "number": STR, "status": _enum(TicketStatus), "type": _enum(TicketType),
                    "channel": _enum(Channel), "urgency": _enum(Urgency), "subject": STR, "content": STR,
                    "citizen": {"type": "object", "nullable": True}, "category": {"type": "object", "nullable": True},
                    "created_at": TIME, "assignments": {"type": "array", "items": _ref("Assignment")},
                    "sla": sla_schema, "satisfaction": {**_enum(Satisfaction), "nullable": True},
                    "urge_count": INT, "supervision_level": INT}},
                "TicketPage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("Ticket")}, "page": INT, "per_page": INT,
                    "total": INT}},
                "Message": {"type": "object", "properties": {
                    "id": INT, "ticket": STR, "channel": _enum(MessageChannel), "template": STR,
                    "recipient": {"type": "string", "nullable": True}, "address": {"type": "string", "nullable": True},
                    "subject": {"type": "string", "nullable": True}, "body": STR, "is_urgent": BOOL,
                    "state": _enum(MessageState), "attempts": INT, "last_error": {"type": "string", "nullable": True},
                    "created_at": TIME, "next_attempt_at": TIME, "sent_at": TIME, "delivered_at": TIME,
                    "failed_at": TIME}},
                "KnowledgeInput": {"type": "object", "required": ["title", "body"], "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "body": {"type": "string", "maxLength": 50000,
                             "description": "HTML (cleaned to safe tags: no scripts, styles or handlers) or "
                                            "plain text, one paragraph a line"},
                    "category": {"type": "string", "description": "a category code"},
                    "owner_department": {"type": "integer", "description": "default: the writer's department"},
                    "source_document": {"type": "string", "maxLength": 200},
                    "source_office": {"type": "string", "maxLength": 120},
                    "valid_from": {"type": "string", "format": "date"},
                    "valid_until": {"type": "string", "format": "date"},
                    "is_public": BOOL, "note": {"type": "string", "maxLength": 200}}},
                "KnowledgeArticle": {"type": "object", "properties": {
                    "id": INT, "title": STR, "body": STR, "state": _enum(ArticleState), "is_public": BOOL,
                    "category": {"type": "object", "nullable": True}, "owner_department": OBJ,
                    "source_document": {"type": "string", "nullable": True},
                    "source_office": {"type": "string", "nullable": True},
                    "valid_from": {"type": "string", "format": "date", "nullable": True},
                    "valid_until": {"type": "string", "format": "date", "nullable": True},
                    "use_count": INT, "version": INT, "updated_at": TIME, "reviewed_at": TIME,
                    "reviewed_by": {"type": "string", "nullable": True},
                    "attachments": {"type": "array", "items": _ref("KnowledgeAttachment"),
                                    "description": "with the body only"}}},
                "KnowledgeAttachment": {"type": "object", "properties": {
                    "id": INT, "filename": STR, "content_type": STR, "size": INT, "sha256": STR,
                    "uploaded_at": TIME, "url": {"type": "string", "description": "where to download it"}}},
                "KnowledgeResults": {"type": "object", "properties": {
                    "query": STR, "words": {"type": "array", "items": STR},
                    "synonyms_added": {"type": "array", "items": STR},
                    "items": {"type": "array", "items": {"allOf": [_ref("KnowledgeArticle"), {
                        "type": "object", "properties": {
                            "score": {"type": "number"},
                            "snippet": {"type": "string", "description": "escaped text, the words found in <mark>"}}}]}},
                    "page": INT, "per_page": INT, "total": INT}},
                "Event": {"type": "object", "properties": {
                    "at": TIME, "actor": {"type": "string", "nullable": True}, "action": STR,
                    "from_status": {"type": "string", "nullable": True},
                    "to_status": {"type": "string", "nullable": True}, "note": {"type": "string", "nullable": True}}},
            },
        },
    }
