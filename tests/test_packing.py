"""The packing planner: pure values in, groups out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from redaction.entities import Entity
from redaction.planning.documents import SEPARATOR, build_documents, split_chunks, split_entities
from redaction.planning.packing import PackingLimits, billed_records, pack_chunks, plan_cost

LIMITS = PackingLimits(max_doc_chars=5000, docs_per_batch=5, separator_chars=len(SEPARATOR))


def _joined(lengths: list[int], group: list[int]) -> int:
    return sum(lengths[i] for i in group) + LIMITS.separator_chars * (len(group) - 1)


def test_billed_records_start_per_thousand_characters() -> None:
    assert [billed_records(n) for n in (1, 999, 1000, 1001, 5000)] == [1, 1, 1, 2, 5]


def test_short_messages_share_one_record() -> None:
    lengths = [40, 12, 300, 90, 5, 200]
    groups = pack_chunks(lengths, LIMITS)
    assert len(groups) == 1
    assert plan_cost(lengths, groups, LIMITS) == (1, 1, 1)


def test_one_document_only_when_its_separators_start_no_record() -> None:
    # 1,000 + 999 characters: together with the separator they start a third record, apart
    # they are billed two; the planner splits them (the one-document shortcut must not apply)
    assert pack_chunks([1000, 999], LIMITS) == [[0], [1]]
    assert pack_chunks([998, 1000], LIMITS) == [[0, 1]]  # 2,000 with the separator: 2 records


def test_small_chunks_fill_the_slack_of_a_long_one() -> None:
    lengths = [4100, 800, 60]
    groups = pack_chunks(lengths, LIMITS)
    assert plan_cost(lengths, groups, LIMITS)[0] == 5


def test_records_at_the_lower_bound_for_equal_messages() -> None:
    lengths = [600] * 20
    records, calls, _ = plan_cost(lengths, pack_chunks(lengths, LIMITS), LIMITS)
    total = sum(lengths) + LIMITS.separator_chars * (len(lengths) - 1)
    assert records == -(-total // 1000)
    assert calls == 1


def test_many_chunks_take_the_linear_plan() -> None:
    lengths = [7] * 5000
    groups = pack_chunks(lengths, LIMITS)
    assert sorted(i for g in groups for i in g) == list(range(5000))
    assert all(_joined(lengths, g) <= 5000 for g in groups)


@given(st.lists(st.integers(min_value=1, max_value=5000), max_size=60))
def test_every_chunk_once_within_the_document_limit_and_never_dearer(lengths: list[int]) -> None:
    groups = pack_chunks(lengths, LIMITS)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert all(_joined(lengths, g) <= LIMITS.max_doc_chars for g in groups)
    alone = [[i] for i in range(len(lengths))]
    assert plan_cost(lengths, groups, LIMITS) <= plan_cost(lengths, alone, LIMITS)


def test_packed_documents_map_entities_back_and_split_at_separators() -> None:
    texts = ["mail a@b.com", "   ", "call 555", "0100 now"]
    chunks = split_chunks(texts, 5000)
    assert [c.text_index for c in chunks] == [0, 2, 3]
    [planned] = build_documents(chunks, [[0, 1, 2]])
    text = planned.document.text
    assert text == SEPARATOR.join(["mail a@b.com", "call 555", "0100 now"])
    email = text.index("a@b.com")
    crossing = text.index("555")
    entities = [
        Entity(email, 7, "Email", 0.9),
        Entity(crossing, len("555") + len(SEPARATOR) + 4, "PhoneNumber", 0.8),
    ]
    pieces = [
        (s.chunk_index, e.offset, e.length, e.category)
        for s, e in split_entities(planned, entities)
    ]
    assert pieces == [(0, 5, 7, "Email"), (1, 5, 3, "PhoneNumber"), (2, 0, 4, "PhoneNumber")]
