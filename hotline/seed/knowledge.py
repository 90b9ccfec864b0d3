"""The demo city's knowledge base: 200+ published articles and the synonyms callers need.

Loaded through the knowledge operations (so every article is cleaned, segmented and versioned
as an administrator's would be). Needs the demo city's departments and categories; an owner or
category the database lacks falls back to the city government and to no category.
"""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from hotline.auth.models import User
from hotline.categories.models import Category
from hotline.departments.models import Department
from hotline.extensions import db
from hotline.knowledge import operations
from hotline.knowledge.models import ArticleState
from hotline.seed.knowledge_articles import ARTICLES
from hotline.seed.knowledge_more import ARTICLES_MORE, directory

#: Words callers use for the same thing, the written word first (an administrator keeps these).
SYNONYMS = [
    "居住证 暂住证", "住房公积金 公积金", "社会保障卡 社保卡", "医疗保险 医保", "养老保险 养老金 退休金",
    "不动产权证 房产证 房本", "不动产登记 房产登记 过户", "出生医学证明 出生证", "户口簿 户口本",
    "港澳通行证 港澳通行证件 去香港 去澳门", "护照 出国证件", "燃气 煤气 天然气", "供暖 暖气 采暖",
    "拖欠工资 欠薪 讨薪 不发工资", "劳动仲裁 劳动争议", "经济补偿 赔偿金 补偿金 辞退", "入学 上学 报名",
    "小学 一年级", "子女 孩子 小孩 娃", "随迁子女 外地孩子", "高龄津贴 高龄补贴",
    "残疾人 残疾", "最低生活保障 低保", "营业执照 执照", "个体工商户 个体户 开店", "灵活就业 自由职业 没单位 没有单位",
    "用人单位 单位 公司 老板", "就医 看病 看医生", "新生儿 婴儿 宝宝", "去世 过世 走了 不在了",
    "补贴 津贴 补助", "老年人 老人 爷爷 奶奶 姥姥 姥爷 外公 外婆", "消费投诉 维权",
    "预付卡 会员卡 办卡", "占道经营 摆摊 小摊贩", "违章建筑 违建 私搭乱建", "垃圾分类 分类投放",
    "有害垃圾 废电池", "大件垃圾 旧家具", "停水 没水", "停电 没电", "公交车 公交", "出租车 的士",
    "电动自行车 电动车 电瓶车", "身份证 身份证件", "无犯罪记录证明 无犯罪证明", "噪声 噪音 吵",
    "提取 取出来 取出", "异地就医 外地看病", "失业保险金 失业金", "生育津贴 产假工资",
    "狂犬疫苗 被狗咬", "政务服务中心 政务大厅 办事大厅", "办公时间 上班时间 几点上班", "电话 联系方式 打哪个电话",
    # what a question asks for: when, where, what to bring, how much
    "时间 什么时候 几点 哪天", "地址 在哪 在哪里 什么地方 哪儿", "材料 带什么 准备什么 需要什么",
    "收费 费用 多少钱 要钱 免费",
]


def seed_knowledge(author: User, *, echo: Callable[[str], None] = print) -> int:
    """Load the synonyms and the articles (published, public unless meant for staff only)."""
    for words in SYNONYMS:
        operations.add_synonyms(author, words)
    depts = {d.code: d for d in db.session.scalars(sa.select(Department))}
    fallback = depts.get("CITY") or next(iter(depts.values()))
    codes = set(db.session.scalars(sa.select(Category.code)))
    count = 0
    for key, category, owner, title, body, source in [*ARTICLES, *ARTICLES_MORE, *directory()]:
        document, _sep, office = source.partition("|")
        operations.create_article(author, {
            "title": title, "body": body, "category": category if category in codes else None,
            "owner_department": (depts.get(owner) or fallback).id, "source_document": document or None,
            "source_office": office or None, "is_public": True, "note": f"demo:{key}",
        }, state=ArticleState.PUBLISHED)
        count += 1
    db.session.flush()
    echo(f"knowledge base: {count} articles, {len(SYNONYMS)} synonym groups")
    return count


def article_keys() -> list[str]:
    """Every article's key, in loading order (the first version's note carries it: demo:<key>)."""
    return [entry[0] for entry in [*ARTICLES, *ARTICLES_MORE, *directory()]]
