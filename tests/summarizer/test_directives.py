"""Directive extraction: the seed's 20, enumerations, speaker frames, and texts with none."""

from __future__ import annotations

import unicodedata
from typing import Any

from ingest import parse
from summarizer import summarize
from summarizer._directives import find_directives


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def test_seed_has_exactly_the_twenty_gold_directives(seed_bytes: bytes, seed_gold: dict[str, Any]) -> None:
    found = summarize(parse(seed_bytes)).directives
    assert [_nfkc(d.text) for d in found] == [_nfkc(g["text"]) for g in seed_gold["directives"]]


def test_seed_heads_and_cues(seed_bytes: bytes, seed_gold: dict[str, Any]) -> None:
    found = summarize(parse(seed_bytes)).directives
    heads = {_nfkc(d.text): d.head for d in found}
    gold = {_nfkc(g["text"]): g["head"] for g in seed_gold["directives"]}
    agree = sum(_nfkc(heads[t]) == _nfkc(h) for t, h in gold.items())
    assert agree >= 18  # two gold heads drop a subject (县市要…) that others keep
    assert heads[_nfkc(seed_gold["directives"][2]["text"])] == "守底线"
    assert found[1].cue == "会议强调"
    assert found[-1].cue == "会议号召"
    assert found[0].paragraph == 2


def test_enumerated_items_count_once_each() -> None:
    text = "会议要求，一是加强组织领导，压实责任；二是强化督查考核；三是营造良好氛围，广泛宣传。"
    found = find_directives([text])
    assert [d.text for d in found] == [
        "加强组织领导，压实责任",
        "强化督查考核",
        "营造良好氛围，广泛宣传",
    ]
    assert all(d.cue == "会议要求" for d in found)


def test_numbered_sentences_and_chinese_ordinals() -> None:
    found = find_directives(["第一，坚持人民至上。第二，着力改善民生。", "（一）加快项目建设。"])
    assert [d.text for d in found] == ["坚持人民至上", "着力改善民生", "加快项目建设"]
    assert [d.paragraph for d in found] == [0, 0, 1]


def test_speaker_frames() -> None:
    found = find_directives(["李强在国务院常务会议上强调，必须坚持稳中求进，确保经济运行在合理区间。"])
    assert len(found) == 1
    assert found[0].cue == "李强在国务院常务会议上强调"
    assert found[0].text == "必须坚持稳中求进，确保经济运行在合理区间"
    assert found[0].head == "坚持稳中求进"


def test_subject_with_modal() -> None:
    found = find_directives(["各级党组织要切实担负起主体责任，抓好落实。", "对人民群众要有敬畏之心，放下架子。"])
    assert [d.head for d in found] == ["各级党组织要切实担负起主体责任", "对人民群众要有敬畏之心"]


def test_long_heads_are_cut_to_twenty_characters() -> None:
    found = find_directives(["要深入学习贯彻习近平总书记关于前瞻布局和发展未来产业的重要论述，推动落实。"])
    assert found[0].head == "深入学习贯彻习近平总书记关于前瞻布局和发"


def test_reports_and_significance_are_not_directives() -> None:
    paragraphs = [
        "会议听取了关于监狱法修订草案审议结果的报告。",
        "审议通过《中共荆州市委全体会议决议》。",
        "市委副书记周向阳出席会议。",
        "会议指出，规划纲要是贯彻落实党中央决策部署的纲领性文件，是重要的制度性成果。",
        "这是十分重要的一次会议，主要任务是总结经验。",
    ]
    assert find_directives(paragraphs) == []


def test_ordinary_local_story_has_none() -> None:
    story = [
        "记者从海口海关获悉：离岛免税购物金额222.2亿元，同比增长22.6%。",
        "免税商品品类由原来的45个大类扩充至47个大类，更好满足顾客多元化的消费需求。",
        "第四届贵州“村超”总决赛落幕，数万名观众到场观赛。",
    ]
    assert find_directives(story) == []


def test_imperative_verbs_need_a_prescribing_context() -> None:
    # Without a frame, 推进… narrates; after 会议强调 it prescribes.
    assert find_directives(["推进实施规划纲要取得明显成效。"]) == []
    found = find_directives(["会议强调，要抓好安全生产。推进隐患排查整治，坚决遏制事故。"])
    assert [d.text for d in found] == ["要抓好安全生产", "推进隐患排查整治，坚决遏制事故"]


def test_scene_setting_before_the_modal_is_cut() -> None:
    found = find_directives(
        [
            "习近平强调，义务教育是国民教育的重中之重，要全面贯彻党的教育方针，落实立德树人根本任务。",
            "会议指出，全面推进乡村振兴是重要任务，人力投入、物力配置都要转移到乡村振兴上来。",
        ]
    )
    assert [d.text for d in found] == [
        "要全面贯彻党的教育方针，落实立德树人根本任务",
        "人力投入、物力配置都要转移到乡村振兴上来",
    ]


def test_nouns_that_look_like_frame_verbs() -> None:
    # 省委工作要求， is a noun phrase, not 省委工作 + 要求，
    found = find_directives(["要提高站位，全面贯彻落实党中央决策部署和省委工作要求，加快建设示范区。"])
    assert [d.text for d in found] == ["要提高站位，全面贯彻落实党中央决策部署和省委工作要求，加快建设示范区"]


def test_frame_after_a_lead_in_and_a_second_verb() -> None:
    found = find_directives(["2月5日，国务院召开廉政工作会议，李强在会上强调，要坚持严的基调。"])
    assert found[0].cue == "李强在会上强调"
    assert found[0].text == "要坚持严的基调"
    found = find_directives(["部长石泰峰主持会议并作工作部署，表示要坚持和加强党的领导。"])
    assert found[0].text == "要坚持和加强党的领导"


def test_judgements_and_wishes_are_not_directives() -> None:
    paragraphs = [
        "会议强调，支持民族地区加快经济社会发展，是中央的一项基本方针。",
        "会议强调，要实现奋斗目标，做好经济工作十分重要。",
        "如果想要感受地道的市井慢生活，可以走进古镇的老茶馆。",
    ]
    assert find_directives(paragraphs) == []


def test_yao_that_is_no_modal_prescribes_nothing() -> None:
    # 要么 (either), 不禁要问 / 想要 (asking, wanting), 要比 (than) and questions.
    paragraphs = [
        "会议强调，要么是纤维被拉长，要么是被拉断。",
        "会议指出，人们不禁要问，这条路还有多远。",
        "会议强调，北斗星的视野要比爱迪尔好一些。",
        "会议强调，为什么一定要等到明年再办？",
    ]
    assert find_directives(paragraphs) == []
    assert find_directives(["李强强调，要加快建设。他说想要做成事，先要肯吃苦？"])[0].text == "要加快建设"


def test_correlative_pair_is_one_directive() -> None:
    found = find_directives(["会议强调，既要保护单体建筑；又要保护街巷街区和城镇格局。"])
    assert [d.text for d in found] == ["既要保护单体建筑；又要保护街巷街区和城镇格局"]


def test_items_in_the_shape_of_the_first_are_enumerated() -> None:
    found = find_directives(["会议强调，要转变发展方式，推动高质量发展；转变工作作风，密切联系群众；转变政府职能。"])
    assert [d.head for d in found] == ["转变发展方式", "转变工作作风", "转变政府职能"]
    # A clause after ； that breaks the shape stays with its item.
    assert len(find_directives(["会议强调，要转变发展方式；这是长期任务。"])) == 1


def test_the_condition_stays_with_its_directive() -> None:
    found = find_directives(
        [
            "会议强调，安全生产责任重于泰山，凡发生较大事故的，一律严肃追究责任。",
            "会议要求，有关部门对群众反映强烈的问题，要限期整改到位。",
        ]
    )
    assert [d.text for d in found] == [
        "凡发生较大事故的，一律严肃追究责任",
        "有关部门对群众反映强烈的问题，要限期整改到位",
    ]


def test_a_request_to_someone_is_a_directive() -> None:
    found = find_directives(["刘云山认真听取发言，要求有关部门把大家的意见建议吸收到工作中。"])
    assert [d.text for d in found] == ["有关部门把大家的意见建议吸收到工作中"]


def test_what_a_draft_law_says_is_not_a_directive_of_the_meeting() -> None:
    paragraphs = [
        "草案二审稿中对救助程序作了规定。有意见提出，社会救助管理部门还应当结合实际情况优化工作流程。",
        "据此，草案三审稿中将本条修改为：“各级人民政府应当采取措施，鼓励有劳动能力的对象自助自立。”",
        "赵乐际表示，要坚持以高质量立法保障高质量发展。",
    ]
    assert [d.text for d in find_directives(paragraphs)] == ["要坚持以高质量立法保障高质量发展"]


def test_prohibitions_open_a_directive_but_not_a_report_of_one() -> None:
    found = find_directives(["会议强调，严禁违规举债，不得新增隐性债务。"])
    assert [d.text for d in found] == ["严禁违规举债，不得新增隐性债务"]
    assert find_directives(["这次任务来不得半点马虎。他记得不得不早起的日子。"]) == []
