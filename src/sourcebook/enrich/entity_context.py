"""Corrections to spaCy's entity spans that need the layout of a news story, not one sentence.

spaCy's English pipelines learnt OntoNotes, one sentence at a time. Wire news carries things
that sentence model reads wrongly, and the layout of the story tells what they are:

**Datelines** (every story). A line that is only a place in capitals and a date ("SEOUL
1996-08-30", "NEW YORK, Aug 30") names a place; the models, which saw few all-capitals words,
often miss it or run the byline above into it.

**Sports results** (only in a sports report: a text whose first line opens with its sport and a
dash, "SOCCER - ...", "CRICKET-ENGLISH COUNTY SCORES"). In a team sport the clubs are named
after their town ("Leicestershire", "SEATTLE", "Pohang"), and a town that plays is an
organisation (the CoNLL and ACE guidelines agree), while the models call it a place, or a person
in a score line ("Pohang 3 Ulsan 2"), or miss it. The layout says which names are teams: score
lines ("Name 3 Name 2"), standings rows ("Name 10 6 2 2 20 8 20"), fixtures ("Name v Name",
"NAME AT NAME") and scorecards ("Name 259 and 207 , Name 114"). Those names become
organisations, and so does every other mention of the same team in the report. A team named
after its country ("Romania", "England") is the country's national side, which the guidelines
keep as a place. Players are told by their layout too: "P. Simmons", a scorer after a side's
name, an entrant before a bracketed country ("Peter Nicol ( Scotland )"), a batsman or bowler
of a scorecard, a surname alone of a person the report names in full. Lines in capitals (the
headline, table headings) are read with the names the rest of the report gives in mixed case.

Outside a sports report only the dateline rule applies, so politics and business stories keep
spaCy's labels. docs/enrichment.md measures each rule (``LayoutRules`` switches them one by
one) on CoNLL-2003 eng.testa, where they were designed, and on eng.train, held out.

Spans are ``(start, end, label)`` with spaCy's labels (PERSON, ORG, GPE, LOC, ...), offsets
into the text; :func:`refine_entities` takes spaCy's and gives the corrected ones, in text order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields

from sourcebook.enrich.gazetteer import Sense, gazetteer

__all__ = ["ALL_RULES", "LayoutRules", "Span", "refine_entities"]

Span = tuple[int, int, str]


@dataclass(frozen=True)
class LayoutRules:
    """Which corrections :func:`refine_entities` makes: all of them by default. Switching one
    off measures what it is worth (``benchmarks/eval_entities.py --ablate``)."""

    datelines: bool = True  #: a dateline line is a place (every story)
    headline: bool = True  #: a sports report's capitals headline read with the story's names
    capitals_lines: bool = True  #: the same for its other capitals lines without figures
    heading_dash: bool = True  #: a span over "ATHLETICS - ..." is dropped
    initialled_players: bool = True  #: "P. Simmons" is a person
    scorecards: bool = True  #: cricket batsmen, fielders, bowlers; no "Extras", "Total"
    entrants: bool = True  #: "Peter Nicol ( Scotland )": a person and a place
    entrant_teams: bool = True  #: "Olaf Ludwig ( Germany ) Telekom 4 hours": a team
    teams: bool = True  #: teams of score lines, standings, fixtures, scorecards, results
    team_mentions: bool = True  #: their other mentions in the report
    places_as_teams: bool = True  #: a town spaCy calls a place, in a team sport
    towns_as_teams: bool = True  #: a town spaCy calls a person, in a team sport
    venues: bool = True  #: "AT DETROIT", "London ( The Oval ) :" stay places
    scorers: bool = True  #: "Romania - Cosmin Contra ( 31st )"
    surnames: bool = True  #: "Tarango" after "Jeff Tarango", relabelled
    surname_mentions: bool = True  #: ... and found where spaCy saw nothing

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


ALL_RULES = LayoutRules()

TEAM_SPORTS = frozenset(
    {
        "SOCCER",
        "FOOTBALL",
        "CRICKET",
        "BASEBALL",
        "BASKETBALL",
        "RUGBY",
        "RUGBY UNION",
        "RUGBY LEAGUE",
        "NFL",
        "NHL",
        "NBA",
        "AMERICAN FOOTBALL",
        "ICE HOCKEY",
        "HOCKEY",
        "AUSTRALIAN RULES",
        "VOLLEYBALL",
        "HANDBALL",
        "WATER POLO",
    }
)
OTHER_SPORTS = frozenset(
    {
        "TENNIS",
        "GOLF",
        "ATHLETICS",
        "BOXING",
        "CYCLING",
        "MOTOR RACING",
        "MOTORCYCLING",
        "HORSE RACING",
        "BADMINTON",
        "SQUASH",
        "SWIMMING",
        "ROWING",
        "YACHTING",
        "SAILING",
        "OLYMPICS",
        "SPORT",
        "SPORTS",
        "ALPINE SKIING",
        "SKIING",
        "FORMULA ONE",
        "TRIATHLON",
        "JUDO",
        "WRESTLING",
        "SNOOKER",
        "DARTS",
        "CHESS",
    }
)
_SPORT_WORDS = "|".join(
    re.escape(s) for s in sorted(TEAM_SPORTS | OTHER_SPORTS, key=len, reverse=True)
)
#: "SOCCER - ...", "NFL AMERICAN FOOTBALL-RANDALL ...", "RUGBY UNION - ..." at the top.
_HEADING = re.compile(rf"^[ \t]*((?:(?:{_SPORT_WORDS})[ \t]+)*(?:{_SPORT_WORDS}))[ \t]*-[ \t]*\S")

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
#: "LONDON 1996-08-30", "NEW YORK, Aug 30", "ST LOUIS 1996-08-30": the whole line.
_DATELINE = re.compile(
    rf"^[ \t]*(?P<place>[A-Z][A-Z.'-]*(?:[ \t]+[A-Z][A-Z.'-]*){{0,3}})"
    rf"(?:[ \t]*,[ \t]*(?P<region>[A-Z][\w.'-]*(?:[ \t]+[A-Z][\w.'-]*)?))?[ \t]*,?[ \t]+"
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}[ \t]+\d{{1,2}}|\d{{1,2}}[ \t]+{_MONTH})[ \t]*$",
    re.MULTILINE,
)

# A team's name: capitalised words, with "of", "de", "'s" between them and a short code in
# brackets after them ("Queen 's Park", "Mladost ( L )", "St Johnstone", "OFK Beograd").
_CAPS_STOP = r"(?:A|AN|AND|AS|AT|BY|FOR|IN|OF|ON|OR|THE|TO|V|VS|WITH|AFTER|OVER|INTO|FROM)"
_WORD = rf"(?!{_CAPS_STOP}\b)[A-Z\u00c0-\u00de][\w.'&\u00c0-\u00ff-]*"
_JOIN_WORDS = frozenset(
    ("of", "de", "del", "la", "le", "du", "da", "di", "do", "van", "von", "y", "'s", "\u2019s")
)
_JOIN = "(?:" + "|".join(sorted(_JOIN_WORDS, key=len, reverse=True)) + ")"
_NAME = rf"{_WORD}(?:[ \t](?:{_JOIN}[ \t])?{_WORD}){{0,3}}(?:[ \t]?\([ \t]?[A-Z]{{1,3}}[ \t]?\))?"
_SCORE = r"\d{1,3}"
#: "Pohang 3 Ulsan 2", "DETROIT 4 Kansas City 1 ( 10 innings )".
_SCORE_LINE = re.compile(
    rf"^[ \t]*(?P<a>{_NAME})[ \t]+{_SCORE}[ \t]+(?P<b>{_NAME})[ \t]+{_SCORE}\b(?![-:.]\d)",
    re.MULTILINE,
)
#: "Puchon 3 1 0 6 1 10", "NEW YORK 74 59 .556 -", "1. Ajax 5 4 1 0 12 3 13".
_STANDING = re.compile(
    rf"^[ \t]*(?:\d{{1,2}}\.?[ \t]+)?(?P<a>{_NAME})(?:[ \t]+(?:\d+|\d*\.\d+|-|\d+/\d+)){{3,}}[ \t]*$",
    re.MULTILINE,
)
#: "East Fife v Clydebank", "KANSAS CITY AT DETROIT", "Radnicki ( N ) - Spartak".
_FIXTURE = re.compile(
    rf"(?:^|(?<=[:,;][ \t]))[ \t]*(?P<a>{_NAME})[ \t]+(?P<sep>v|vs\.?|AT|-)[ \t]+(?P<b>{_NAME})"
    rf"(?=[ \t]*(?:$|[,;.(]))",
    re.MULTILINE,
)
#: A scorecard's innings: "Glamorgan 259 and 207 ( ... ) , Durham 114", "Surrey 429-7".
_INNINGS = re.compile(
    rf"(?:^|(?<=[:,;][ \t]))[ \t]*(?P<a>{_NAME})[ \t]+\d{{1,3}}(?:-\d{{1,2}})?"
    rf"(?=[ \t]*(?:$|[,;.]|and[ \t]+\d|points\b|\(|for[ \t]+\d))",
    re.MULTILINE,
)
_PARENTHESES = re.compile(r"\([^()\n]*\)")
_INITIAL_NAME = re.compile(r"^[A-Z]\.[ \t]?[A-Z]")


def refine_entities(text: str, spans: Iterable[Span], rules: LayoutRules = ALL_RULES) -> list[Span]:
    """spaCy's spans of ``text`` corrected by the story's layout (see the module docstring)."""
    out = sorted(spans)
    if rules.datelines:
        out = _datelines(text, out)
    heading = _HEADING.match(text[:200])
    if not heading:
        return sorted(out)
    if rules.headline or rules.capitals_lines:
        out = _headline(text, out, rules)
    if rules.heading_dash:
        out = _drop_heading(heading.end(1), out)
    if rules.initialled_players:
        out = _initialled_players(text, out)
    if rules.scorecards:
        out = _scorecard_players(text, out)
    team_sport = any(word in TEAM_SPORTS for word in _sport_names(heading.group(1)))
    if rules.entrants:
        out = _entrants(text, out, not team_sport, rules)
    if team_sport and rules.teams:
        out = _teams(text, out, rules)
    if team_sport and rules.scorers:
        out = _scorers(text, out)
    if rules.surnames:
        out = _surnames(text, out, rules)
    if rules.scorecards:
        out = _drop_scorecard_rows(text, out)
    return sorted(out)


_CAPS_WORD = re.compile(r"[A-Z][A-Z'.&-]*[A-Z]\b")


def _headline(text: str, out: list[Span], rules: LayoutRules) -> list[Span]:
    """A headline in capitals ("SOCCER - SHEARER NAMED AS ENGLAND CAPTAIN") is read by the
    names the story gives in mixed case: spaCy, which learnt few capitals, finds names in
    words like "MATCH" and misses "SHEARER". Its spans there are replaced by the story's
    names (a person also by the surname) and countries the gazetteer knows. The same goes for
    every other line in capitals without figures (table and section headings: "EASTERN
    DIVISION", "W L PCT GB")."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for number, line in enumerate(text.split("\n")):
        end = pos + len(line)
        capitals = not any(c.islower() for c in line) and len(_CAPS_WORD.findall(line))
        headline = number == 0 and capitals >= 2 and rules.headline
        heading = number > 0 and capitals and rules.capitals_lines and not _has_figures(line)
        if headline or heading:
            lines.append((pos, end))
        pos = end + 1
    if not lines or lines == [(0, len(text))]:
        return out

    def in_caps(start: int) -> bool:
        return any(a <= start < b for a, b in lines)

    known: dict[str, str] = {}
    for start, stop, label in out:
        if in_caps(start) or label not in ("PERSON", "ORG", "GPE", "LOC", "NORP"):
            continue
        name = text[start:stop]
        if name.isupper() and len(name) > 4:
            continue
        known.setdefault(_key(name), label)
        words = name.split()
        if label == "PERSON" and len(words) > 1:
            known.setdefault(_key(words[-1]), label)
    pattern = (
        re.compile(
            r"(?<![\w'])(?:"
            + "|".join(
                re.escape(n).replace(r"\ ", r"\s+") for n in sorted(known, key=len, reverse=True)
            )
            + r")(?![\w'])",
            re.IGNORECASE,
        )
        if known
        else None
    )
    new: list[Span] = []
    for a, b in lines:
        found: list[Span] = []
        if pattern:
            found += [
                (m.start(), m.end(), known[_key(m.group(0))]) for m in pattern.finditer(text, a, b)
            ]
        for match in gazetteer().scan(text[a:b]):
            if any(s.kind == "country" for s in match.senses):
                found.append((a + match.start, a + match.end, "GPE"))
        new += _non_overlapping(found)
    kept = [s for s in out if not in_caps(s[0])]
    return sorted(kept + new)


def _sport_names(heading: str) -> Iterator[str]:
    words = heading.split()
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            yield " ".join(words[i:j])


def _replace(out: list[Span], new: Iterable[Span]) -> list[Span]:
    """``out`` with every span that overlaps one of ``new`` taken away, and ``new`` added."""
    added = sorted(set(new))
    if not added:
        return out
    kept = [s for s in out if not any(s[0] < n[1] and n[0] < s[1] for n in added)]
    return kept + added


def _datelines(text: str, out: list[Span]) -> list[Span]:
    """A dateline is a place; a span spaCy ran into it from the line before (a byline: "Yuri
    Kushko\nTAVILDARA") keeps its part on that line."""
    new = []
    for match in _DATELINE.finditer(text[:400]):
        new.append((match.start("place"), match.end("place"), "GPE"))
        if match.group("region"):
            new.append((match.start("region"), match.end("region"), "GPE"))
        line_start = match.start()
        for start, end, label in out:
            if start < line_start - 1 < end and end > match.start("place"):
                new.append((start, line_start - 1, label))
    return _replace(out, new)


def _drop_heading(end: int, out: list[Span]) -> list[Span]:
    """Spans that take in the sport of a headline ("ATHLETICS - MITCHELL") are no names."""
    return [s for s in out if s[0] >= end]


#: "P. Simmons", "T.O'Gorman", "A.de Silva": a player in a scorecard or results list.
_INITIALLED = re.compile(
    r"(?<![\w.])[A-Z]\.(?:[ \t]?[A-Z]\.)?[ \t]?(?:[a-z]{1,3}[ \t]|[A-Z]'|Mc|Mac)?"
    r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?![\w.])"
)


def _initialled_players(text: str, out: list[Span]) -> list[Span]:
    """In a sports report an initial and a surname is a player, whatever spaCy said."""
    new = []
    for match in _INITIALLED.finditer(text):
        start, end = match.span()
        surname = match.group(0).split(".")[-1].strip()
        if any(s.kind in ("country", "demonym") for s in gazetteer().lookup(surname)):
            continue  # "S. Korean"
        if any(s[0] <= start and end <= s[1] and s[2] == "PERSON" for s in out):
            continue
        new.append((start, end, "PERSON"))
    return _replace(out, new)


#: "4 - Peter Nicol ( Scotland )", "Sandrine Testud (France)": an entrant and their country.
_ENTRANT = re.compile(
    rf"(?:(?<=\d[ \t]-[ \t])|(?<=\d-)|(?<![\w.'-]))(?P<name>{_WORD}(?:[ \t](?:{_JOIN}[ \t])?{_WORD}){{1,3}})"
    r"[ \t]*\([ \t]*(?P<country>[A-Z][\w. -]{1,30}?)[ \t]*\)"
    rf"(?:[ \t]+(?P<team>{_NAME})(?=[ \t]+(?:\d|same[ \t]+time|all[ \t]+same)|[ \t]*$))?",
    re.MULTILINE,
)


def _entrants(text: str, out: list[Span], people: bool, rules: LayoutRules) -> list[Span]:
    """A country in brackets after a name is a place; in a results list of a sport that is
    not a team sport, the name before it is a person."""
    new = []
    for match in _ENTRANT.finditer(text):
        if not _is_country(match.group("country")):
            continue
        new.append((match.start("country"), match.end("country"), "GPE"))
        name = match.group("name")
        if people and not name.isupper() and not _is_country(name):
            new.append((match.start("name"), match.end("name"), "PERSON"))
            team = match.group("team")
            if rules.entrant_teams and team and not _is_country(team):
                # "Olaf Ludwig ( Germany ) Telekom 4 hours 48 mins": the rider's team
                new.append((match.start("team"), match.end("team"), "ORG"))
    return _replace(out, new)


#: A cricket scorecard's batting line: "Saeed Anwar c Stewart b Gough 33", "G. Thorpe lbw b
#: Ata-ur-Rehman 21", "Salim Malik c & b Croft 6", "Moin Khan not out 4".
_BATTING = re.compile(
    rf"^[ \t]*(?P<batsman>{_NAME})[ \t]+(?:(?:(?:c|st)[ \t]+(?P<fielder>{_NAME})[ \t]+)?"
    rf"(?:lbw[ \t]+|c[ \t]+&[ \t]+)?b[ \t]+(?P<bowler>{_NAME})|run[ \t]+out|not[ \t]+out)"
    r"(?:[ \t]+\d+)?[ \t]*$",
    re.MULTILINE,
)
#: Bowling figures: "Gough 8-0-39-3", "Hollioake 6.5-1-23-4".
_BOWLING = re.compile(rf"(?P<bowler>{_NAME})[ \t]+\d+(?:\.\d)?-\d+-\d+-\d+\b")
_SCORECARD_ROW = re.compile(
    r"(?<![^\n])(?:Extras|Total|[A-Z][a-z]+(?=[ \t]*:[ \t]*[\d,]+[ \t]*\.?[ \t]*$))", re.M
)


def _scorecard_players(text: str, out: list[Span]) -> list[Span]:
    """Batsmen, fielders and bowlers of a cricket scorecard are people."""
    new = []
    for match in _BATTING.finditer(text):
        for group in ("batsman", "fielder", "bowler"):
            if match.group(group):
                new.append((match.start(group), match.end(group), "PERSON"))
    for match in _BOWLING.finditer(text):
        new.append((match.start("bowler"), match.end("bowler"), "PERSON"))
    return _replace(out, _non_overlapping(new))


def _drop_scorecard_rows(text: str, out: list[Span]) -> list[Span]:
    """A scorecard's row names ("Extras ( lb-2 ) 2", "Total ( 37.5 overs ) 185") and a
    report's figures ("Attendance : 12,000") are no names, though they stand where a team's
    name would."""
    kept = []
    for span in out:
        row = _SCORECARD_ROW.match(text, span[0])
        if not (row and row.end() == span[1]):
            kept.append(span)
    return kept


#: "Romania - Cosmin Contra ( 31st ) , Mihai Tararache ( 75th )": a side and its scorers.
_SCORERS_LINE = re.compile(rf"^[ \t]*(?P<side>{_NAME})[ \t]+-[ \t]+(?=.*\([ \t]*\d)", re.MULTILINE)
_SCORER = re.compile(
    rf"(?:^|(?<=[,;:-][ \t]))[ \t]*(?P<name>{_WORD}(?:[ \t](?:{_JOIN}[ \t])?{_WORD}){{0,3}})"
    r"(?=[ \t]*\([ \t]*\d|[ \t]+\d{1,3}(?:st|nd|rd|th)?\b)"
)


def _scorers(text: str, out: list[Span]) -> list[Span]:
    """The scorers of a side ("Romania - Cosmin Contra ( 31st )") are people."""
    new = []
    for line in _SCORERS_LINE.finditer(text):
        end = text.find("\n", line.end())
        end = len(text) if end < 0 else end
        side = line.group("side")
        new.append((line.start("side"), line.end("side"), "GPE" if _is_country(side) else "ORG"))
        for match in _SCORER.finditer(text, line.end(), end):
            new.append((match.start("name"), match.end("name"), "PERSON"))
    return _replace(out, new)


def _surnames(text: str, out: list[Span], rules: LayoutRules) -> list[Span]:
    """A player's surname alone ("Tarango" after "Jeff Tarango") is the player, whatever
    label spaCy gave it there."""
    surnames: set[str] = set()
    for start, end, label in out:
        words = text[start:end].split()
        if label == "PERSON" and len(words) > 1 and words[-1][:1].isupper():
            surnames.add(words[-1])
    teams = {text[s:e] for s, e, label in out if label == "ORG" and len(text[s:e].split()) > 1}
    new = []
    for start, end, label in out:
        name = text[start:end]
        if label in ("ORG", "GPE", "NORP") and name in surnames and name not in teams:
            new.append((start, end, "PERSON"))
    out = _replace(out, new)
    if not rules.surname_mentions or not surnames:
        return out
    pattern = re.compile(
        r"(?<![\w'.-])(?:" + "|".join(map(re.escape, sorted(surnames - teams))) + r")(?![\w'-])"
    )
    new = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e, _ in out):
            continue
        before = text[max(0, start - 3) : start]
        if start == 0 or "\n" in before or before.rstrip().endswith((".", '"', "?", "!", ":")):
            continue  # the first word of a sentence may be a common word ("Such")
        new.append((start, end, "PERSON"))
    return _replace(out, new)


def _is_country(name: str) -> bool:
    key = _PARENTHESES.sub("", name).strip()
    return any(s.kind == "country" for s in gazetteer().lookup(key))


def _blank_parentheses(line: str) -> str:
    return _PARENTHESES.sub(lambda m: " " * len(m.group(0)), line)


_VENUE = re.compile(r"[ \t]*(?:\([^()\n]*\)[ \t]*)?:")
_PLACE_WORD = re.compile(r"(?:\b(?:in|at|near|IN|AT|In|At)\s+)$")
#: "Leicestershire beat Somerset", "WIGAN BEAT BRADFORD", "Kent drew with Essex".
_RESULT = re.compile(
    rf"(?<![\w'])(?P<a>{_NAME})[ \t]+(?:beat|BEAT|drew[ \t]+with|DRAW[ \t]+WITH|lost[ \t]+to|"
    rf"LOSE[ \t]+TO|thrashed|edged|routed|crushed)[ \t]+(?P<b>{_NAME})"
)


def _teams(text: str, out: list[Span], rules: LayoutRules) -> list[Span]:
    """Team names of a team sport's report as organisations (national sides stay places)."""
    people = {(s, e) for s, e, label in out if label == "PERSON"}
    datelines = {(m.start("place"), m.end("place")) for m in _DATELINE.finditer(text[:400])}
    found: list[Span] = []
    names: dict[str, str] = {}
    pos = 0
    for line in text.split("\n"):
        candidates: list[tuple[int, int, bool]] = []  # start, end, sure (even over a PERSON)
        for match in _SCORE_LINE.finditer(line):
            candidates += [(match.start("a"), match.end("a"), True)]
            candidates += [(match.start("b"), match.end("b"), True)]
        for match in _STANDING.finditer(line):
            candidates.append((match.start("a"), match.end("a"), True))
        for match in _FIXTURE.finditer(line):
            if match.group("sep") == "-" and (pos == 0 or not any(c.islower() for c in line)):
                continue  # a headline ("CRICKET - ENGLISH COUNTY SCORES"), not a fixture
            candidates += [(match.start("a"), match.end("a"), True)]
            if match.group("sep").lower() != "at":
                candidates += [(match.start("b"), match.end("b"), True)]
            elif rules.venues:  # "KANSAS CITY AT DETROIT": the home side's town, where they play
                found.append((pos + match.start("b"), pos + match.end("b"), "GPE"))
        for match in _INNINGS.finditer(_blank_parentheses(line)):
            candidates.append((match.start("a"), match.end("a"), False))
        for start, end, sure in candidates:
            name = line[start:end]
            if _INITIAL_NAME.match(name):
                continue  # "P. Simmons 4-38": a player
            if not sure and (pos + start, pos + end) in people:
                continue
            label = "GPE" if _is_country(name) else "ORG"
            found.append((pos + start, pos + end, label))
            if label == "ORG":
                names[_key(name)] = label
        pos += len(line) + 1
    for match in _RESULT.finditer(text):
        for group in ("a", "b"):
            name = match.group(group)
            if _INITIAL_NAME.match(name) or (match.start(group), match.end(group)) in people:
                continue
            label = "GPE" if _is_country(name) else "ORG"
            found.append((match.start(group), match.end(group), label))
            if label == "ORG":
                names[_key(name)] = label
    if rules.places_as_teams:
        for start, end, label in out:
            if label != "GPE" or (start, end) in datelines:
                continue
            name = text[start:end]
            if _is_country(name) or _PLACE_WORD.search(text[max(0, start - 6) : start]):
                continue
            if rules.venues and _opens_venue_line(text, start, end):
                continue  # "Portsmouth : Middlesex 199 ...": where the match was played
            names[_key(name)] = "ORG"
    if rules.towns_as_teams:
        # "Kent", "Northampton" alone, which spaCy calls people: a town that plays, unless the
        # report names a person of that surname ("Dave Kent")
        surnames = {
            text[s:e].split()[-1]
            for s, e, label in out
            if label == "PERSON" and len(text[s:e].split()) > 1
        }
        for start, end, label in out:
            name = text[start:end]
            if label != "PERSON" or " " in name or name in surnames or name.isupper():
                continue
            if _PLACE_WORD.search(text[max(0, start - 6) : start]):
                continue
            if any(_is_town(sense) for sense in gazetteer().lookup(name)):
                names[_key(name)] = "ORG"
    found = _non_overlapping(found)
    out = _replace(out, found)
    if not rules.team_mentions:
        return out
    return _replace(out, _mentions(text, names, out, found, rules))


def _opens_venue_line(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] == "\n") and bool(_VENUE.match(text, end))


def _is_town(sense: Sense) -> bool:
    return sense.kind == "place" and gazetteer().places[sense.place].kind != "region"


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def _non_overlapping(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for span in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept


def _mentions(
    text: str, names: dict[str, str], out: list[Span], found: list[Span], rules: LayoutRules
) -> list[Span]:
    """Every other mention of a team the layout named, in the report's running text too."""
    if not names:
        return []
    pattern = re.compile(
        r"(?<![\w'])(?:"
        + "|".join(
            re.escape(n).replace(r"\ ", r"\s+") for n in sorted(names, key=len, reverse=True)
        )
        + r")(?![\w'])",
        re.IGNORECASE,
    )
    taken = set(found)
    places = set()
    for dateline in _DATELINE.finditer(text[:400]):
        places.add((dateline.start("place"), dateline.end("place")))
        places.add((dateline.start("region"), dateline.end("region")))
    new: list[Span] = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if not all(w[0].isupper() or w in _JOIN_WORDS for w in match.group(0).split()):
            continue  # "Australia by four wickets" is no mention of "AUSTRALIA BY FOUR WICKETS"
        if (start, end, "ORG") in taken or (start, end) in places:
            continue
        if _PLACE_WORD.search(text[max(0, start - 6) : start]):
            continue  # "fans in Philadelphia", "CLEVELAND AT TEXAS": where, not who
        if rules.venues and _opens_venue_line(text, start, end):
            continue  # "London ( The Oval ) : Warwickshire 195": where
        longer = [s for s in out if s[0] <= start and end <= s[1] and (s[0], s[1]) != (start, end)]
        if any(
            "\n" not in text[s[0] : s[1]] and not _has_figures(text[s[0] : s[1]]) for s in longer
        ):
            continue  # inside a longer name ("Leicestershire County Cricket Club")
        new.append((start, end, names[_key(match.group(0))]))
    return new


def _has_figures(text: str) -> bool:
    return any(c.isdigit() for c in text)
