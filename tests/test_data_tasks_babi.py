"""bAbI 1-5 and BABILong: an independent reader re-derives every answer from the prompt text."""

import re

import pytest

from memnb.data.tasks import babi_format, babi_stories, babi_texts, make_babi, task_ranges
from memnb.data.tasks.babi import GIVERS, OBJECTS, PEOPLE, PLACES

NAME = "|".join(PEOPLE + GIVERS)
PLACE = "|".join(PLACES)
OBJ = "|".join(OBJECTS)
FACT = re.compile(
    rf"\b(?P<p>{NAME}) (?:(?:went|journeyed|travelled|moved) to the (?P<l>{PLACE})"
    rf"|(?P<take>got|grabbed|picked up|took) the (?P<to>{OBJ})"
    rf"|(?P<drop>dropped|discarded|put down|left) the (?P<do>{OBJ})"
    rf"|(?:gave|handed|passed) the (?P<go>{OBJ}) to (?P<q>{NAME}))\."
    rf"|\bThe (?P<a>{PLACE}) is (?P<d>north|south|east|west) of the (?P<b>{PLACE})\."
)
STEP = {"north": (0, 1), "south": (0, -1), "east": (1, 0), "west": (-1, 0)}


def read_and_answer(prompt: str) -> str:
    """Replay every fact found in the text and answer the final question."""
    story, question = prompt.rsplit("\nQuestion: ", 1)
    question = question.removesuffix("\nAnswer: ")
    place, holder, lying, trail, gifts, at = {}, {}, {}, {}, [], {}
    for m in FACT.finditer(story):
        p = m["p"]
        if m["l"]:
            place[p] = m["l"]
            for o, h in holder.items():
                if h == p and trail[o][-1:] != [m["l"]]:
                    trail[o].append(m["l"])
        elif m["take"]:
            holder[m["to"]], lying[m["to"]] = p, None
            seen = trail.setdefault(m["to"], [])
            if p in place and (not seen or seen[-1] != place[p]):
                seen.append(place[p])
        elif m["drop"]:
            holder[m["do"]], lying[m["do"]] = None, place[p]
        elif m["go"]:
            holder[m["go"]] = m["q"]
            gifts.append((p, m["go"], m["q"]))
        else:  # a relation "a is d of b": put both on a grid (each fact shares a place with earlier ones)
            a, b, (dx, dy) = m["a"], m["b"], STEP[m["d"]]
            if not at:
                at[b] = (0, 0)
            if b in at:
                at[a] = (at[b][0] + dx, at[b][1] + dy)
            else:
                at[b] = (at[a][0] - dx, at[a][1] - dy)
    if m := re.fullmatch(rf"Where is ({NAME})\?", question):
        return place[m[1]]
    if m := re.fullmatch(rf"Where is the ({OBJ})\?", question):
        o = m[1]
        return place[holder[o]] if holder.get(o) else lying[o]
    if m := re.fullmatch(rf"Where was the ({OBJ}) before the ({PLACE})\?", question):
        t = trail[m[1]]
        assert t.count(m[2]) == 1
        return t[t.index(m[2]) - 1]
    if m := re.fullmatch(rf"What is (north|south|east|west) of the ({PLACE})\?", question):
        x, y = at[m[2]]
        return next(k for k, v in at.items() if v == (x + STEP[m[1]][0], y + STEP[m[1]][1]))
    if m := re.fullmatch(rf"What is the ({PLACE}) (north|south|east|west) of\?", question):
        x, y = at[m[1]]
        return next(k for k, v in at.items() if v == (x - STEP[m[2]][0], y - STEP[m[2]][1]))
    if m := re.fullmatch(rf"Who gave the ({OBJ}) to ({NAME})\?", question):
        return [g for g in gifts if g[1:] == (m[1], m[2])][-1][0]
    if m := re.fullmatch(rf"Who received the ({OBJ})\?", question):
        return [g for g in gifts if g[1] == m[1]][-1][2]
    if m := re.fullmatch(rf"What did ({NAME}) give to ({NAME})\?", question):
        return [g for g in gifts if (g[0], g[2]) == (m[1], m[2])][-1][1]
    if m := re.fullmatch(rf"Who did ({NAME}) give the ({OBJ}) to\?", question):
        return [g for g in gifts if g[:2] == (m[1], m[2])][-1][2]
    raise AssertionError(f"unknown question {question!r}")


@pytest.mark.parametrize("task", [1, 2, 3, 4, 5])
def test_plain_stories_answer_from_the_text(task):
    examples = babi_texts(300, seed=task, task=task)
    for e in examples:
        assert read_and_answer(e.prompt) == e.answer, e.prompt
        assert e.meta["length"] == 0
    answers = {e.answer for e in examples}
    assert len(answers) >= 4  # answers spread over the places / people / objects


@pytest.mark.parametrize("task", [1, 2, 3, 4, 5])
def test_babilong_stories_hidden_in_shakespeare(task):
    examples = babi_texts(40, seed=7, task=task, length=(1024, 3000))
    plain = babi_texts(40, seed=7, task=task)
    for e, p in zip(examples, plain, strict=True):
        assert len(e.prompt + e.answer) == e.meta["length"]
        assert read_and_answer(e.prompt) == e.answer == p.answer  # background changes nothing
        facts = p.prompt.split("\nQuestion:")[0].split("\n")
        assert [e.prompt[pos : pos + len(f)] for pos, f in zip(e.meta["fact_pos"], facts, strict=True)] == facts


def test_babi_format():
    story = babi_stories(1, seed=0, task=2, n_facts=6)[0]
    lines = babi_format(story).splitlines()
    assert len(lines) == 7 and lines[0].startswith("1 ")
    q_id, rest = lines[-1].split(" ", 1)
    question, answer, supports = rest.split("\t")
    assert (q_id, question, answer) == ("7", story.question, story.answer)
    assert [int(s) - 1 for s in supports.split()] == story.supports


@pytest.mark.parametrize("task", [1, 2, 4, 5])
def test_supporting_facts_alone_answer_the_question(task):
    for story in babi_stories(200, seed=3, task=task):
        supports = "\n".join(story.facts[i] for i in story.supports)
        assert read_and_answer(f"{supports}\nQuestion: {story.question}\nAnswer: ") == story.answer


def test_tokenised_form_and_splits():
    batch = make_babi(20, seed=0, task=1, length=2048)
    assert batch.inputs.shape == (20, 2048) and batch.meta["split"] == ["ood"] * 20
    texts = babi_texts(20, seed=0, task=1, length=2048)
    for i, e in enumerate(texts):
        assert batch.vocab.render(batch.inputs[i].tolist()) == e.prompt + e.answer
        assert batch.vocab.render(batch.targets[i].tolist()) == e.answer + "<eos>"  # render drops -100
    assert make_babi(5, seed=0, task=3).meta["split"] == ["iid"] * 5
    assert task_ranges("babi3")["iid"] == (0, 0)


def test_babi_bad_arguments():
    with pytest.raises(ValueError, match=r"task must be an int in \[1, 5\]"):
        babi_texts(2, seed=0, task=6)
    with pytest.raises(ValueError, match=r"n_facts \(task 4\)"):
        babi_texts(2, seed=0, task=4, n_facts=9)
    with pytest.raises(ValueError, match="room for 10 facts"):
        babi_texts(2, seed=0, task=1, length=100)
