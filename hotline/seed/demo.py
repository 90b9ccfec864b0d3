"""The demo city (../shared/reference/demo-city.md): a plausible 12345 line with months of orders.

Orders are made through the same operations as real work, with simulated times, so every
demo order has a real trail of events and real deadlines.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Callable

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.auth.operations import create_user
from hotline.categories.models import Category
from hotline.core.base import utcnow
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.seed.knowledge import seed_knowledge
from hotline.seed.telephony import seed_telephony
from hotline.sla import operations as sla_operations
from hotline.sla import service as sla
from hotline.tickets.operations.actions import perform
from hotline.tickets.operations import register_ticket
from workflows.deadlines import CalendarMissing
from workflows.states import Role
from workflows.vocabulary import DepartmentLevel, Urgency

DEMO_PASSWORD = "hotline12345"

BUREAUS = [
    ("CGJ", "城市管理局", "City management", False), ("ZJJ", "住房和城乡建设局", "Housing and construction", False),
    ("HJJ", "生态环境局", "Ecology and environment", False), ("JTJ", "交通运输局", "Transport", False),
    ("SCJ", "市场监督管理局", "Market regulation", False), ("RSJ", "人力资源和社会保障局", "Human resources and social security", False),
    ("JYJ", "教育局", "Education", False), ("WJW", "卫生健康委员会", "Health", False),
    ("GAJ", "公安局", "Public security (non-emergency)", False), ("ZRJ", "自然资源和规划局", "Natural resources and planning", False),
    ("SWJT", "水务集团", "Water utility", True), ("GDGS", "供电公司", "Power utility", True),
    ("RQGS", "燃气公司", "Gas utility", True), ("RLGS", "热力公司", "Heating utility", True),
    ("ZWJ", "政务服务管理局", "Government services", False),
]
DISTRICTS = {
    "DC": ("东城区", "Dongcheng District", {"幸福路街道": ["幸福里社区", "春晖社区", "朝阳社区"],
                                              "和平街道": ["和平里社区", "安康社区"],
                                              "光明街道": ["光明社区", "新华社区", "丰收社区", "锦绣社区"]}),
    "XC": ("西城区", "Xicheng District", {"金融街街道": ["丰盛社区", "太平桥社区"],
                                            "月坛街道": ["月坛社区", "南礼士路社区", "三里河社区"],
                                            "德胜街道": ["德胜里社区", "新街口社区"]}),
    "GX": ("高新区", "High-tech Zone", {"创新街道": ["软件园社区", "科技城社区"],
                                           "未来街道": ["未来城社区", "星河社区", "天园社区"],
                                           "云谷街道": ["云谷社区", "听涛社区"]}),
}
# code, name, English, default bureau, urgency, [(level-2 name, English, urgency override)]
CATEGORIES = [
    ("01", "城乡建设", "Urban construction", "ZJJ", None,
     [("道路破损", "Damaged road", None), ("违章建筑", "Illegal building", None),
      ("施工扰民", "Construction noise", None), ("路灯故障", "Street light out", None)]),
    ("02", "环境保护", "Environment", "HJJ", None,
     [("噪声污染", "Noise pollution", None), ("大气污染", "Air pollution", None),
      ("水污染", "Water pollution", None), ("垃圾清运", "Rubbish collection", None)]),
    ("03", "交通运输", "Transport", "JTJ", None,
     [("公交线路", "Bus routes", None), ("出租车服务", "Taxi service", None),
      ("交通设施", "Traffic facilities", None), ("停车管理", "Parking", None)]),
    ("04", "市场监管", "Market regulation", "SCJ", None,
     [("食品安全", "Food safety", None), ("价格投诉", "Prices", None),
      ("消费维权", "Consumer rights", None), ("无证经营", "Unlicensed business", None)]),
    ("05", "劳动社保", "Labour and social security", "RSJ", None,
     [("拖欠工资", "Unpaid wages", None), ("社保缴纳", "Social insurance", None),
      ("劳动合同", "Labour contracts", None), ("就业服务", "Employment services", None)]),
    ("06", "教育", "Education", "JYJ", None,
     [("入学政策", "School admission", None), ("校外培训", "Private tutoring", None), ("校园安全", "School safety", None)]),
    ("07", "医疗卫生", "Health", "WJW", None,
     [("医疗服务", "Medical services", None), ("医保报销", "Medical insurance", None), ("疫苗接种", "Vaccination", None)]),
    ("08", "住房物业", "Housing and property", "ZJJ", None,
     [("物业服务", "Property management", None), ("房屋质量", "Building quality", None),
      ("电梯故障", "Lift failure", Urgency.URGENT), ("租赁纠纷", "Tenancy disputes", None)]),
    ("09", "水电气热", "Utilities", "SWJT", Urgency.UTILITIES,
     [("停水", "No water", None), ("停电", "Power cut", None),
      ("燃气泄漏", "Gas leak", Urgency.URGENT), ("供暖不热", "Heating not warm", None)]),
    ("10", "城市管理", "City management", "CGJ", None,
     [("占道经营", "Street vending", None), ("井盖缺失", "Missing manhole cover", Urgency.URGENT),
      ("绿化养护", "Green spaces", None), ("广告牌安全", "Billboard safety", None)]),
    ("11", "政务服务", "Government services", "ZWJ", None,
     [("审批进度", "Approval progress", None), ("办事指南", "How-to guidance", None), ("证照办理", "Licences", None)]),
    ("12", "企业服务", "Enterprise services", "ZWJ", None,
     [("惠企政策", "Business support policy", None), ("融资困难", "Financing", None), ("营商环境", "Business climate", None)]),
    ("13", "公共安全", "Public safety (non-emergency)", "GAJ", None,
     [("安全隐患", "Safety hazard", None), ("消防通道", "Fire lanes", None)]),
    ("99", "其他", "Other", None, None, []),
]
UTILITY_FOR = {"0901": "SWJT", "0902": "GDGS", "0903": "RQGS", "0904": "RLGS"}
DEMO_USERS = [
    ("calltaker", "话务员 王芳", Role.CALL_TAKER, None), ("expert", "专家坐席 李强", Role.EXPERT, None),
    ("supervisor", "班长 张敏", Role.SUPERVISOR, None), ("reviewer", "审核员 刘洋", Role.CENTRE_REVIEWER, None),
    ("handler", "承办人 陈静 (城市管理局)", Role.DEPARTMENT_HANDLER, "CGJ"),
    ("deptadmin", "部门管理员 赵磊 (东城区)", Role.DEPARTMENT_ADMIN, "DC"),
    ("manager", "领导 孙伟", Role.MANAGER, None), ("admin", "管理员 周杰", Role.ADMIN, None),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "建华", "志强"]
TYPES = [("complaint", 34), ("help", 22), ("consultation", 20), ("report", 8), ("suggestion", 10), ("praise", 3),
         ("repair", 3)]
CHANNELS = [("phone", 70), ("web", 14), ("sms", 5), ("email", 3), ("fax", 1), ("api", 4), ("walk_in", 3)]
SATISFACTION = [("satisfied", 78), ("basically_satisfied", 12), ("dissatisfied", 7), ("unreachable", 3)]
#: Departments that are regularly late (a handful, as in real centres).
SLOW = {"ZJJ", "RSJ", "DC"}


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _build_departments() -> dict[str, Department]:
    by_code: dict[str, Department] = {}

    def add(code, name, name_en, level, parent=None, utility=False):
        dept = Department(code=code, name=name, name_en=name_en, level=level, parent=parent, is_utility=utility)
        db.session.add(dept)
        db.session.flush()
        dept.path = (parent.path if parent else "/") + f"{dept.id}/"
        by_code[code] = dept
        return dept

    city = add("CITY", "市政府", "City government", DepartmentLevel.CITY)
    for code, name, en, utility in BUREAUS:
        add(code, name, en, DepartmentLevel.CITY, city, utility)
    for dcode, (dname, den, streets) in DISTRICTS.items():
        district = add(dcode, dname, den, DepartmentLevel.DISTRICT, city)
        add(f"{dcode}-CGJ", f"{dname}城管局", f"{den} city management", DepartmentLevel.DISTRICT, district)
        add(f"{dcode}-ZJJ", f"{dname}住建局", f"{den} housing", DepartmentLevel.DISTRICT, district)
        for si, (sname, communities) in enumerate(streets.items(), 1):
            street = add(f"{dcode}-S{si}", sname, None, DepartmentLevel.STREET, district)
            for ci, cname in enumerate(communities, 1):
                add(f"{dcode}-S{si}-C{ci}", cname, None, DepartmentLevel.COMMUNITY, street)
    return by_code


def _build_categories(depts: dict[str, Department]) -> list[Category]:
    leaves = []
    for code, name, en, dept_code, urgency, children in CATEGORIES:
        top = Category(code=code, name=name, name_en=en, default_urgency=urgency,
                       default_department_id=depts[dept_code].id if dept_code else None)
        db.session.add(top)
        db.session.flush()
        if not children:
            leaves.append(top)
        for i, (child, child_en, child_urgency) in enumerate(children, 1):
            ccode = f"{code}{i:02d}"
            dept = depts[UTILITY_FOR.get(ccode, dept_code)] if dept_code else None
            leaf = Category(code=ccode, name=child, name_en=child_en, parent_id=top.id,
                            default_urgency=child_urgency or urgency, default_department_id=dept.id if dept else None)
            db.session.add(leaf)
            leaves.append(leaf)
    db.session.flush()
    return leaves


def _calendar(echo: Callable[[str], None], now: datetime) -> None:
    this_year = sla.local_date(now).year
    for year in (this_year - 1, this_year, this_year + 1):
        try:
            sla_operations.import_year(year)
        except CalendarMissing:
            if year <= this_year:
                raise
            sla_operations.import_year(year, provisional=True)
            echo(f"warning: the official {year} holidays are not known yet; the demo uses a provisional "
                 f"Mon–Fri calendar for {year}. Correct it under Administration when they are published.")


def seed_demo(*, orders: int = 3000, if_empty: bool = False, echo: Callable[[str], None] = print,
              seed: int = 12345, now: datetime | None = None) -> None:
    """Load the demo city; `orders` orders spread over the last ~90 days, in every state."""
    if if_empty and db.session.scalar(sa.select(sa.func.count(Department.id))):
        echo("demo data already present; nothing to do")
        return
    rng = random.Random(seed)
    now = now or utcnow()
    _calendar(echo, now)
    sla_operations.install_default_policies()
    depts = _build_departments()
    leaves = _build_categories(depts)
    users: dict[str, User] = {}
    for username, display, role, dept_code in DEMO_USERS:
        users[username] = create_user(username, role.value, DEMO_PASSWORD, display_name=display,
                                      department_id=depts[dept_code].id if dept_code else None)
    handlers: dict[int, User] = {users["handler"].department_id: users["handler"]}
    admins: dict[int, User] = {users["deptadmin"].department_id: users["deptadmin"]}
    db.session.commit()
    echo(f"departments {len(depts)}, categories {len(leaves)}, users {len(users)}")

    def handler_for(dept: Department) -> User:
        if dept.id not in handlers:
            handlers[dept.id] = create_user(f"h-{dept.code.lower()}", Role.DEPARTMENT_HANDLER.value, DEMO_PASSWORD,
                                            display_name=f"承办人 ({dept.name})", department_id=dept.id)
        return handlers[dept.id]

    phones = [f"1{rng.choice('358')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}" for _ in range(orders)]
    street_names = [d for d in depts.values() if d.level == DepartmentLevel.STREET]
    districts = [depts[c] for c in DISTRICTS]
    start = now - timedelta(days=90)
    last_by_phone: dict[str, str] = {}
    tz = sla.local_tz()
    for i in range(orders):
        # busy mornings: registration times cluster between 9 and 11 local time
        day = start + timedelta(days=90 * rng.random() ** 0.7)  # more orders recently: a growing line
        hour = rng.choices(range(24), [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 14, 9, 10, 12, 12, 11, 9, 7, 6, 5, 4, 2, 1])[0]
        at = datetime.combine(day.astimezone(tz).date(), time(hour, rng.randint(0, 59)), tz)
        if at > now - timedelta(minutes=5):
            at = now - timedelta(minutes=rng.randint(5, 600))
        leaf = rng.choice(leaves)
        ticket_type = _pick(rng, TYPES)
        street = rng.choice(street_names)
        phone = phones[rng.randint(0, max(0, i - 1))] if i and rng.random() < 0.12 else phones[i]
        subject = f"{street.name}{leaf.name}" if leaf.parent_id else f"{street.name}其他诉求"
        ticket = register_ticket(users["calltaker"], {
            "type": ticket_type, "channel": _pick(rng, CHANNELS), "category": leaf.code,
            "citizen": {"name": rng.choice(SURNAMES) + rng.choice(GIVEN) if rng.random() < 0.8 else None,
                        "phone": phone},
            "subject": subject, "content": f"市民反映：{subject}，{rng.choice(_DETAILS)}，请相关部门尽快处理。",
            "address": f"{street.parent.name}{street.name}{rng.randint(1, 300)}号",
        }, at=at)
        earlier = last_by_phone.get(phone)
        if earlier and rng.random() < 0.25:
            # a repeat call about the same problem: merged into the earlier order
            perform(ticket, "merge", users["reviewer"], {"into": earlier},
                    at=min(now, at + timedelta(minutes=rng.randint(5, 90))))
        else:
            _advance(rng, ticket, users, handler_for, admins, depts, districts, at, now)
            if ticket.status.value != "cancelled":
                last_by_phone[phone] = ticket.number
        if i % 200 == 199:
            db.session.commit()
            echo(f"orders {i + 1}/{orders}")
    if orders:
        _showcase(users, handler_for, depts, now)
    db.session.commit()
    if orders % 200:
        echo(f"orders {orders}/{orders}")
    seed_knowledge(users["admin"], echo=echo)
    db.session.commit()
    calls = seed_telephony(rng, users, now)
    db.session.commit()
    echo(f"telephony: extensions 8001 (calltaker), 8002 (expert), 8101 (supervisor); {calls} calls in the last "
         f"few days")
    echo(f"log in at http://127.0.0.1:5000/login as calltaker, reviewer, handler, deptadmin, supervisor, "
         f"manager or admin, password {DEMO_PASSWORD}")


_DETAILS = ["已持续一周", "多次反映未解决", "影响周边居民正常生活", "存在安全隐患", "希望尽快答复",
            "夜间尤为严重", "涉及老人和儿童", "附近商户也有意见"]


def _advance(rng, ticket, users, handler_for, admins, depts, districts, at, now) -> None:
    """Walk one order forward as far as its age allows, with realistic delays and outcomes."""
    age_days = (now - at).total_seconds() / 86400
    clock = at

    def step(hours_low: float, hours_high: float) -> datetime | None:
        nonlocal clock
        nxt = clock + timedelta(hours=rng.uniform(hours_low, hours_high))
        if nxt >= now or (age_days < 12 and rng.random() < 0.1):  # the recent backlog: work not done yet
            return None
        clock = nxt
        return clock

    if ticket.type.value in ("consultation", "praise") or rng.random() < 0.25:
        if (t := step(0.05, 0.3)):
            perform(ticket, "answer", users["calltaker"], {"reply": "已根据政策口径当场答复市民。"}, at=t)
            if age_days > 2 and (t := step(20, 40)):
                _visit(rng, ticket, users, t)
        return
    if rng.random() < 0.03 and (t := step(0.1, 1)):  # prank calls, withdrawn requests
        perform(ticket, "cancel", users["reviewer"], {"reason": "重复来电，市民撤回诉求。"}, at=t)
        return
    dept = None
    if ticket.category and ticket.category.default_department_id:
        dept = db.session.get(Department, ticket.category.default_department_id)
    if dept is None or rng.random() < 0.15:
        dept = rng.choice(districts)
    assist = [depts["CGJ"].id] if rng.random() < 0.08 and dept.code != "CGJ" else []
    if not (t := step(0.1, 1.5)):
        return
    perform(ticket, "dispatch", users["calltaker"], {"department": dept.id, "assist": assist, "note": "请按时办理。"}, at=t)
    slow = dept.code in SLOW
    handler = handler_for(dept)
    # urgent and utilities orders are signed for within minutes (their sign-for limits are 15 and 30
    # minutes), most of them in time; general ones within hours
    if not (t := step(*((0.05, 0.6) if ticket.urgency != Urgency.GENERAL else (1, 30 if slow else 8)))):
        return
    if rng.random() < 0.06:
        perform(ticket, "return", handler, {"reason": "不属于本单位职责，建议转交属地街道。"}, at=t)
        if age_days < 12 and rng.random() < 0.5 or not (t := step(1, 6)):
            return  # the centre has not reviewed this return yet
        dept = rng.choice([d for d in districts if d.id != dept.id])
        perform(ticket, "review-return", users["reviewer"], {"approve": True, "department": dept.id,
                                                             "note": "同意退单，改派属地。"}, at=t)
        handler = handler_for(dept)
        if not (t := step(1, 8)):
            return
    perform(ticket, "sign", handler, {}, at=t)
    if dept.id in admins and rng.random() < 0.5 and (t := step(1, 6)):
        sub = rng.choice(dept.children)
        perform(ticket, "sub-dispatch", admins[dept.id], {"department": sub.id, "note": "请属地核查。"}, at=t)
    if ticket.urgency == Urgency.GENERAL and rng.random() < 0.06 and (t := step(10, 40)):
        perform(ticket, "request-extension", handler, {"days": rng.choice([3, 5]), "reason": "需协调多部门现场勘查。"}, at=t)
        if (t := step(2, 12)):
            perform(ticket, "review-extension", users["reviewer"], {"approve": rng.random() < 0.8}, at=t)
    hours = (24 * 4 if ticket.urgency == Urgency.GENERAL else 1.5) * (2.2 if slow else 1)
    if not (t := step(hours * 0.1, hours)):
        if rng.random() < 0.3 and (t2 := step(0.5, 2)):
            perform(ticket, "urge", users["reviewer"], {"note": "请尽快办理。"}, at=t2)
        return
    perform(ticket, "reply", handler, {"content": "已安排人员现场处理，问题已解决，并电话告知市民。",
                                       "contacted_citizen": rng.random() < 0.9}, at=t)
    if not (t := step(1, 20)):
        return
    approve = rng.random() < 0.92
    perform(ticket, "review-reply", users["reviewer"],
            {"approve": approve, "note": None if approve else "答复内容不完整，请补充处理结果。"}, at=t)
    if not approve:
        return
    if (t := step(4, 30)):
        _visit(rng, ticket, users, t)
        if ticket.satisfaction and ticket.satisfaction.value == "dissatisfied" and rng.random() < 0.5 \
                and (t := step(2, 24)):
            perform(ticket, "reopen", users["reviewer"], {"reason": "市民对处理结果不满意，要求重办。"}, at=t)


def _visit(rng, ticket, users, at) -> None:
    satisfaction = _pick(rng, SATISFACTION)
    perform(ticket, "visit", users["reviewer"], {
        "satisfaction": satisfaction,
        "resolved": None if satisfaction == "unreachable" else satisfaction in ("satisfied", "basically_satisfied"),
        "note": "电话回访。"}, at=at)


def _showcase(users, handler_for, depts, now) -> None:
    """One fresh order waiting at each open step, so every screen has something to show."""
    cgj = depts["CGJ"]
    handler = handler_for(cgj)
    steps = [
        ("dispatch", users["calltaker"], {"department": cgj.id}),
        ("sign", handler, {}),
        ("reply", handler, {"content": "已安排人员现场核查处理。", "contacted_citizen": True}),
        ("review-reply", users["reviewer"], {"approve": True}),
    ]
    for depth in range(len(steps) + 1):
        at = now - timedelta(hours=3)
        ticket = register_ticket(users["calltaker"], {
            "type": "complaint", "channel": "phone", "category": "1001", "subject": "幸福路早市占道经营",
            "content": "幸福路口每天早上有摊贩占道经营，影响车辆和行人通行。",
            "citizen": {"name": "王建华", "phone": "13912345678"}, "address": "东城区幸福路18号"}, at=at)
        for action, actor, data in steps[:depth]:
            at += timedelta(minutes=20)
            perform(ticket, action, actor, data, at=at)
    returned = register_ticket(users["calltaker"], {
        "type": "help", "channel": "web", "category": "1001", "subject": "小区门口井盖松动",
        "content": "和平街道安康社区门口井盖松动，夜间有响声。", "address": "东城区和平街道"}, at=now - timedelta(hours=2))
    perform(returned, "dispatch", users["calltaker"], {"department": cgj.id}, at=now - timedelta(hours=1, minutes=50))
    perform(returned, "return", handler, {"reason": "属于属地街道管理范围，请改派和平街道。"},
            at=now - timedelta(hours=1))
