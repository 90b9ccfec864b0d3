"""A synthetic history of handled orders for measuring the department suggestion.

Made from the demo city's kind of categories, departments, districts and streets, with callers'
phrasings. The label is the department that *handled* the case, decided by hidden rules the model
never sees, several of which overrule the category's default (construction noise goes to housing and
construction, not environment; street vending in 南山区 is handled by the district; a burst main in
西城区 by the district's water company...), plus 8% of cases handled by a random other department
(misfiled history). Training and held-out samples are drawn independently from the same generator;
nothing of the held-out part is seen in training.
"""
from __future__ import annotations

import random

DEPTS = {"cgj": 1, "hbj": 2, "zjj": 3, "scj": 4, "water": 5, "jtj": 6, "dc": 7, "xc": 8, "ns": 9, "xc_water": 10}
DEFAULT = {"noise": DEPTS["hbj"], "vending": DEPTS["cgj"], "water": DEPTS["water"], "food": DEPTS["scj"],
           "traffic": DEPTS["jtj"], "property": DEPTS["zjj"]}
DISTRICTS = ["东城区", "西城区", "南山区"]
STREETS = ["幸福路", "建设路", "和平街", "人民大道", "解放路", "滨江路", "文化路", "青年路"]
PLACES = ["小区", "菜市场", "学校门口", "地铁站", "公交站", "商场", "公园"]

PHRASES = {
    ("noise", "construction"): ["工地晚上还在打桩，吵得睡不着", "半夜施工噪音太大", "工地夜里施工机器轰隆隆响",
                                "建筑工地凌晨还在浇筑混凝土"],
    ("noise", "dance"): ["广场舞音响声音太大", "每天晚上跳广场舞放音乐很吵", "公园里有人唱歌音箱开很大"],
    ("noise", "shop"): ["商铺门口喇叭循环播放促销", "店家大喇叭天天喊", "饭店排风机噪音扰民"],
    ("vending", "stall"): ["路边摆摊占道经营", "流动摊贩堵住人行道", "早上小贩占道卖菜"],
    ("vending", "outdoor"): ["店铺出店经营把东西摆到人行道", "饭店在门外摆桌子", "超市货物堆在门口"],
    ("water", "outage"): ["家里停水了也没通知", "突然没水了", "水龙头没有水"],
    ("water", "burst"): ["路上水管爆了到处是水", "自来水管破裂冒水", "马路上水管漏水很严重"],
    ("food", "expired"): ["超市卖过期食品", "买到的牛奶过期了", "饭店食材不新鲜吃坏肚子"],
    ("traffic", "signal"): ["红绿灯坏了", "路口信号灯不亮", "信号灯时间太短过不去"],
    ("traffic", "parking"): ["车辆乱停堵住消防通道", "人行道上停满了车", "小区门口违停严重"],
    ("property", "lift"): ["电梯经常坏物业不修", "电梯困人了", "物业不管电梯维修"],
    ("property", "leak"): ["楼上漏水物业不管", "楼顶渗水物业推诿", "外墙渗水找物业没人理"],
}
FILLERS = ["", "希望尽快处理", "已经好几天了", "反映过很多次了", "请相关部门管一管", "影响很大", "老人孩子都受不了"]


def handler(category: str, kind: str, district: str) -> int:
    """Who really handled it (the hidden rules)."""
    if category == "noise":
        return {"construction": DEPTS["zjj"], "dance": {"东城区": DEPTS["dc"], "西城区": DEPTS["xc"],
                                                        "南山区": DEPTS["ns"]}[district]}.get(kind, DEPTS["hbj"])
    if category == "vending":
        return DEPTS["ns"] if district == "南山区" else DEPTS["cgj"]
    if category == "water":
        return DEPTS["xc_water"] if district == "西城区" else DEPTS["water"]
    if category == "traffic" and kind == "parking":
        return DEPTS["cgj"]
    return DEFAULT[category]


def generate(n: int, seed: int, noise: float = 0.08) -> list[tuple[str, str, str, int]]:
    """(text, category, address, department) cases."""
    rng = random.Random(seed)
    kinds = list(PHRASES)
    out = []
    for _ in range(n):
        category, kind = rng.choice(kinds)
        district = rng.choice(DISTRICTS)
        address = f"{district}{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.choice(PLACES)}"
        text = f"{rng.choice(['', '我要反映', '你好，', '投诉一下'])}{address.split('号')[-1]}附近" \
               f"{rng.choice(PHRASES[(category, kind)])}，{rng.choice(FILLERS)}"
        dept = handler(category, kind, district)
        if rng.random() < noise:
            dept = rng.choice(list(DEPTS.values()))
        out.append((text, category, address, dept))
    return out
