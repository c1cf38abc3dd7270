"""The layout layer over spaCy's entities (enrich/entity_context.py), on reports we wrote.

``refine_entities`` is a plain function of a text and spaCy-style spans, so most cases give it
the spans a model could return and check what comes back; the last ones run spaCy itself.
"""

from __future__ import annotations

import pytest

from sourcebook.enrich.entities import EntityExtractor
from sourcebook.enrich.entity_context import LayoutRules, refine_entities

Span = tuple[int, int, str]


def at(text: str, name: str, label: str, nth: int = 0) -> Span:
    """The span of the ``nth`` occurrence of ``name`` in ``text`` with ``label``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    return (start, start + len(name), label)


def named(text: str, spans: list[Span]) -> set[tuple[str, str]]:
    return {(text[s:e], label) for s, e, label in spans}


RESULTS = (
    "SOCCER - NORDIC LEAGUE RESULTS .\n"
    "OSLO 2001-05-06\n"
    "Results of Nordic league matches on Sunday :\n"
    "Brakedal 3 Fjellvik 1\n"
    "Holmsund 0 Norway 2\n"
    "Postponed : Lindvik v Storhavn\n"
    "Standings ( played , won , drawn , lost , goals for , against , points ) :\n"
    "Brakedal 5 4 1 0 12 3 13\n"
    "Fjellvik 5 3 0 2 9 7 9\n"
    "Brakedal beat Fjellvik in front of 4,000 fans in Fjellvik on Sunday .\n"
)


def test_score_lines_standings_and_fixtures_name_teams() -> None:
    # what a model might say: the towns as places, one as a person, the dateline missed
    spacy = [
        at(RESULTS, "Brakedal", "GPE"),
        at(RESULTS, "Fjellvik", "PERSON"),
        at(RESULTS, "Norway", "GPE"),
        at(RESULTS, "Brakedal", "GPE", 2),
        at(RESULTS, "Fjellvik", "GPE", 2),
        at(RESULTS, "Fjellvik", "GPE", 3),
    ]
    out = refine_entities(RESULTS, spacy)
    labels = [(RESULTS[s:e], label) for s, e, label in out]
    assert ("OSLO", "GPE") in labels  # the dateline
    assert labels.count(("Brakedal", "ORG")) == 3  # score line, standings, running text
    assert labels.count(("Fjellvik", "ORG")) == 3
    assert ("Fjellvik", "GPE") in labels  # "in Fjellvik": where they played
    assert ("Norway", "GPE") in labels  # a national side stays a place
    assert {("Holmsund", "ORG"), ("Lindvik", "ORG"), ("Storhavn", "ORG")} <= set(labels)
    assert not any(label == "PERSON" for _, label in labels)


def test_the_same_text_without_a_sports_heading_keeps_spacys_labels() -> None:
    text = RESULTS.split("\n", 1)[1].replace("OSLO 2001-05-06\n", "")
    spacy = [at(text, "Brakedal", "GPE"), at(text, "Fjellvik", "PERSON")]
    assert refine_entities(text, spacy) == sorted(spacy)


def test_a_report_of_politics_is_left_alone() -> None:
    text = (
        "Talks on the river treaty resumed in Brakedal on Monday .\n"
        "Minister Ola Brekke said Norway 3 and Sweden 2 were the votes cast .\n"
    )
    spacy = [
        at(text, "Brakedal", "GPE"),
        at(text, "Ola Brekke", "PERSON"),
        at(text, "Norway", "GPE"),
        at(text, "Sweden", "GPE"),
    ]
    assert refine_entities(text, spacy) == sorted(spacy)


def test_dateline_with_a_region() -> None:
    text = "Farmers protest\nSPRINGVILLE , Utah 2001-05-06\nFarmers marched on Friday .\n"
    assert named(text, refine_entities(text, [])) == {("SPRINGVILLE", "GPE"), ("Utah", "GPE")}


def test_a_span_over_the_sport_of_a_headline_is_dropped() -> None:
    text = "ATHLETICS - LUND WINS AGAIN .\nOSLO 2001-05-06\nKarolina Lund won the 800 metres .\n"
    spacy = [(0, 21, "ORG"), at(text, "Karolina Lund", "PERSON")]
    out = named(text, refine_entities(text, spacy))
    assert ("ATHLETICS - LUND WINS", "ORG") not in out
    assert ("LUND", "PERSON") in out  # the headline read with the story's names
    assert ("Karolina Lund", "PERSON") in out


def test_headline_names_come_from_the_story() -> None:
    text = (
        "SOCCER - BREKKE SCORES TWICE AS NORWAY WIN .\n"
        "OSLO 2001-05-06\n"
        "Ole Brekke scored twice as Norway beat Iceland 2-0 on Sunday .\n"
    )
    spacy = [(9, 22, "ORG"), at(text, "Ole Brekke", "PERSON"), at(text, "Norway", "GPE")]
    out = named(text, refine_entities(text, spacy))
    assert {("BREKKE", "PERSON"), ("NORWAY", "GPE")} <= out
    assert ("BREKKE SCORES", "ORG") not in out


def test_scorecard_teams_and_initialled_players() -> None:
    text = (
        "CRICKET - NORTHERN TROPHY SCORES .\n"
        "HARLOW 2001-05-06\n"
        "Northby 250 and 190-4 ( K. Marsh 88 , T.O'Hare 51 ) , Southby 120 .\n"
    )
    spacy = [at(text, "K. Marsh", "ORG"), at(text, "Southby", "PERSON")]
    out = named(text, refine_entities(text, spacy))
    assert {("Northby", "ORG"), ("K. Marsh", "PERSON"), ("T.O'Hare", "PERSON")} <= out
    # a name spaCy called a person is kept in the looser scorecard pattern
    assert ("Southby", "PERSON") in out


def test_entrants_of_an_individual_sport_are_people_with_countries() -> None:
    text = (
        "TENNIS - HARBOUR OPEN RESULTS .\n"
        "OSLO 2001-05-06\n"
        "3 - Ana Folau ( Tonga ) beat Mira Dahl ( Czech Republic ) 6-3 6-4\n"
    )
    spacy = [at(text, "Czech", "NORP")]
    out = named(text, refine_entities(text, spacy))
    assert {("Ana Folau", "PERSON"), ("Mira Dahl", "PERSON")} <= out
    assert {("Tonga", "GPE"), ("Czech Republic", "GPE")} <= out


def test_scorers_of_a_side_are_people() -> None:
    text = (
        "SOCCER - NORWAY BEAT ICELAND .\n"
        "OSLO 2001-05-06\n"
        "Scorers :\n"
        "Norway - Ole Brekke ( 12th ) , Jan Vik ( 80th )\n"
    )
    spacy = [at(text, "Ole Brekke", "ORG")]
    out = named(text, refine_entities(text, spacy))
    assert {("Ole Brekke", "PERSON"), ("Jan Vik", "PERSON"), ("Norway", "GPE")} <= out
    assert ("NORWAY", "GPE") in out and ("ICELAND", "GPE") in out


def test_a_capital_word_after_a_team_is_not_part_of_its_name() -> None:
    text = "SOCCER - ROMANIA BEAT LATVIA IN UNDER-21 MATCH .\nRIGA 2001-05-06\nA match .\n"
    out = named(text, refine_entities(text, []))
    assert ("LATVIA", "GPE") in out
    assert not any("MATCH" in name for name, _ in out)


@pytest.mark.skipif(not EntityExtractor.available(), reason="spaCy is not installed")
def test_extractor_counts_teams_as_organisations() -> None:
    text = (
        "SOCCER - NORDIC LEAGUE RESULTS .\n"
        "OSLO 2001-05-06\n"
        "Results of Nordic league matches on Sunday :\n"
        "Drammen 3 Tromso 1\n"
        "Bergen 2 Stavanger 2\n"
    )
    found = EntityExtractor().extract(text)
    assert {"Drammen", "Tromso", "Bergen", "Stavanger"} <= set(found.organisations)
    spacy_alone = EntityExtractor(layout_rules=None).extract(text)
    assert not {"Drammen", "Bergen"} <= set(spacy_alone.organisations)


def test_a_players_surname_alone_is_the_player() -> None:
    text = (
        "TENNIS - DAHL THROUGH .\n"
        "OSLO 2001-05-06\n"
        "Mira Dahl beat the top seed on Friday .\n"
        "The crowd cheered as Dahl served , and later Dahl said she was tired .\n"
    )
    spacy = [at(text, "Mira Dahl", "PERSON"), at(text, "Dahl", "ORG", 2)]
    out = [(text[s:e], label) for s, e, label in refine_entities(text, spacy)]
    assert out.count(("Dahl", "PERSON")) == 2  # relabelled, and found where spaCy saw nothing
    assert ("DAHL", "PERSON") in out


def test_a_byline_run_into_the_dateline_keeps_its_person() -> None:
    text = "Floods close the pass\nAnna Berg\nSKARDU 2001-05-06\nRoads were shut .\n"
    spacy = [(text.index("Anna"), text.index("SKARDU") + 6, "PERSON")]
    assert named(text, refine_entities(text, spacy)) == {
        ("Anna Berg", "PERSON"),
        ("SKARDU", "GPE"),
    }


def test_a_riders_team_after_the_country() -> None:
    text = (
        "CYCLING - VALLEY TOUR RESULTS .\n"
        "OSLO 2001-05-06\n"
        "1. Ole Brekke ( Norway ) Fjordbank 4 hours 48 mins 2 seconds\n"
        "2. Jan Vik ( Sweden ) Nordlys same time\n"
    )
    out = named(text, refine_entities(text, []))
    assert {("Fjordbank", "ORG"), ("Nordlys", "ORG"), ("Ole Brekke", "PERSON")} <= out


def test_cricket_scorecard_players_are_people() -> None:
    text = (
        "CRICKET - NORTHBY V SOUTHBY SCOREBOARD .\n"
        "HARLOW 2001-05-06\n"
        "Northby\n"
        "Tom Hale c Reed b Marsh 33\n"
        "Dev Patel-Rao lbw b Marsh 12\n"
        "Extras ( lb-2 ) 2\n"
        "Bowling : Marsh 8-0-39-3 , Okafor 6.5-1-23-4 .\n"
    )
    spacy = [at(text, "Extras", "ORG"), at(text, "Reed", "GPE")]
    out = named(text, refine_entities(text, spacy))
    people = {"Tom Hale", "Reed", "Marsh", "Dev Patel-Rao", "Okafor"}
    assert {(name, "PERSON") for name in people} <= out
    assert not any(name == "Extras" for name, _ in out)


def test_a_town_spacy_calls_a_person_is_a_team_in_a_team_sport() -> None:
    text = (
        "RUGBY UNION - WEEKEND ROUND-UP .\n"
        "LONDON 2001-05-06\n"
        "Leicester were stronger after the break , and Tom Bristow scored twice .\n"
        "Northampton travel to Gloucester next week .\n"
    )
    spacy = [
        at(text, "Leicester", "PERSON"),
        at(text, "Tom Bristow", "PERSON"),
        at(text, "Northampton", "PERSON"),
    ]
    out = named(text, refine_entities(text, spacy))
    assert {("Leicester", "ORG"), ("Northampton", "ORG"), ("Tom Bristow", "PERSON")} <= out


def test_each_rule_can_be_switched_off() -> None:
    spacy = [at(RESULTS, "Brakedal", "GPE")]
    without_teams = named(RESULTS, refine_entities(RESULTS, spacy, LayoutRules(teams=False)))
    assert ("Brakedal", "GPE") in without_teams and ("Holmsund", "ORG") not in without_teams
    without_datelines = refine_entities(RESULTS, [], LayoutRules(datelines=False))
    assert ("OSLO", "GPE") not in named(RESULTS, without_datelines)
    assert "teams" in LayoutRules.names() and len(LayoutRules.names()) == 16
