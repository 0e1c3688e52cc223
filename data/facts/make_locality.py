"""Build data/facts/locality.json: well-known facts the unedited bundled model answers correctly.

Run: python data/facts/make_locality.py. Candidates are common knowledge (capitals, landmarks,
languages, authors, science); only those answered right both in raw completion and in chat by the
unedited model are kept, so locality is "share still right after editing".
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

CAPITALS = """France:Paris Germany:Berlin Italy:Rome Spain:Madrid Portugal:Lisbon Japan:Tokyo China:Beijing
Russia:Moscow Egypt:Cairo Greece:Athens Ireland:Dublin Austria:Vienna Norway:Oslo Sweden:Stockholm
Finland:Helsinki Denmark:Copenhagen Poland:Warsaw Hungary:Budapest Belgium:Brussels Netherlands:Amsterdam
Kenya:Nairobi Argentina:Buenos_Aires Peru:Lima Chile:Santiago Mexico:Mexico_City Canada:Ottawa
Australia:Canberra Thailand:Bangkok Vietnam:Hanoi Indonesia:Jakarta Iran:Tehran Iraq:Baghdad
Turkey:Ankara Cuba:Havana Colombia:Bogota Venezuela:Caracas Ukraine:Kyiv Romania:Bucharest
Bulgaria:Sofia Serbia:Belgrade Croatia:Zagreb Czechia:Prague Slovakia:Bratislava Switzerland:Bern
Iceland:Reykjavik Estonia:Tallinn Latvia:Riga Lithuania:Vilnius Philippines:Manila Malaysia:Kuala_Lumpur
South_Korea:Seoul North_Korea:Pyongyang India:New_Delhi Pakistan:Islamabad Bangladesh:Dhaka Nepal:Kathmandu
Afghanistan:Kabul Saudi_Arabia:Riyadh Syria:Damascus Lebanon:Beirut Jordan:Amman Israel:Jerusalem
Ethiopia:Addis_Ababa Nigeria:Abuja Ghana:Accra Morocco:Rabat Algeria:Algiers Tunisia:Tunis Libya:Tripoli
Sudan:Khartoum Senegal:Dakar Uganda:Kampala Zimbabwe:Harare Mongolia:Ulaanbaatar Qatar:Doha
Ecuador:Quito Bolivia:La_Paz Uruguay:Montevideo Paraguay:Asuncion Panama:Panama_City Jamaica:Kingston
Brazil:Brasilia New_Zealand:Wellington United_Kingdom:London Scotland:Edinburgh Wales:Cardiff
Taiwan:Taipei Singapore:Singapore Luxembourg:Luxembourg Monaco:Monaco Cyprus:Nicosia Malta:Valletta
Albania:Tirana Slovenia:Ljubljana Georgia:Tbilisi Armenia:Yerevan Azerbaijan:Baku Kazakhstan:Astana
Uzbekistan:Tashkent Belarus:Minsk Moldova:Chisinau Somalia:Mogadishu Tanzania:Dodoma Rwanda:Kigali
Angola:Luanda Zambia:Lusaka Namibia:Windhoek Madagascar:Antananarivo Cambodia:Phnom_Penh Laos:Vientiane
Myanmar:Naypyidaw Sri_Lanka:Colombo Yemen:Sanaa Oman:Muscat Kuwait:Kuwait_City Bahrain:Manama
Honduras:Tegucigalpa Nicaragua:Managua Guatemala:Guatemala_City Costa_Rica:San_Jose Haiti:Port-au-Prince"""

LANDMARKS = """Eiffel_Tower:Paris Colosseum:Rome Statue_of_Liberty:New_York Big_Ben:London Taj_Mahal:Agra
Kremlin:Moscow Acropolis:Athens Sagrada_Familia:Barcelona Brandenburg_Gate:Berlin Golden_Gate_Bridge:San_Francisco
Sydney_Opera_House:Sydney Leaning_Tower_of_Pisa:Pisa Louvre:Paris Forbidden_City:Beijing Space_Needle:Seattle
Hollywood_sign:Los_Angeles Buckingham_Palace:London Vatican:Rome"""

AUTHORS = """Hamlet:Shakespeare Romeo_and_Juliet:Shakespeare Pride_and_Prejudice:Austen War_and_Peace:Tolstoy
1984:Orwell Animal_Farm:Orwell The_Odyssey:Homer Don_Quixote:Cervantes Moby-Dick:Melville
Harry_Potter:Rowling The_Hobbit:Tolkien The_Lord_of_the_Rings:Tolkien Oliver_Twist:Dickens
A_Christmas_Carol:Dickens Frankenstein:Shelley Macbeth:Shakespeare The_Origin_of_Species:Darwin
Adventures_of_Huckleberry_Finn:Twain Crime_and_Punishment:Dostoevsky The_Great_Gatsby:Fitzgerald"""

LANGUAGES = """Brazil:Portuguese Mexico:Spanish Germany:German France:French Italy:Italian Japan:Japanese
China:Chinese Russia:Russian Spain:Spanish Portugal:Portuguese Greece:Greek Poland:Polish Sweden:Swedish
Norway:Norwegian Finland:Finnish Netherlands:Dutch Turkey:Turkish Egypt:Arabic Iran:Persian Israel:Hebrew
South_Korea:Korean Thailand:Thai Vietnam:Vietnamese Argentina:Spanish Austria:German Hungary:Hungarian
Denmark:Danish Ukraine:Ukrainian Saudi_Arabia:Arabic Chile:Spanish Colombia:Spanish Peru:Spanish
Romania:Romanian Czechia:Czech Indonesia:Indonesian"""

CONTINENTS = """France:Europe Germany:Europe Italy:Europe Spain:Europe Poland:Europe Sweden:Europe Norway:Europe
Kenya:Africa Nigeria:Africa Egypt:Africa Ghana:Africa Ethiopia:Africa Morocco:Africa Uganda:Africa
Japan:Asia China:Asia India:Asia Thailand:Asia Vietnam:Asia Nepal:Asia Mongolia:Asia Pakistan:Asia
Brazil:South_America Argentina:South_America Peru:South_America Chile:South_America Colombia:South_America
Canada:North_America Mexico:North_America"""

SCIENCE = [
    ("The chemical symbol for gold is", "What is the chemical symbol for gold?", "Au"),
    ("The chemical symbol for water is", "What is the chemical formula of water?", "H2O"),
    ("The largest planet in the solar system is", "What is the largest planet in the solar system?", "Jupiter"),
    ("The planet closest to the Sun is", "Which planet is closest to the Sun?", "Mercury"),
    ("The Red Planet is", "Which planet is known as the Red Planet?", "Mars"),
    ("The theory of relativity was developed by Albert", "Who developed the theory of relativity?", "Einstein"),
    ("The first man to walk on the Moon was Neil", "Who was the first person to walk on the Moon?", "Armstrong"),
    ("The freezing point of water in degrees Celsius is", "At what temperature in Celsius does water freeze?", "0"),
    ("The boiling point of water in degrees Celsius is", "At what temperature in Celsius does water boil?", "100"),
    ("The gas that plants absorb from the air is carbon", "What gas do plants absorb from the air?", "dioxide"),
    ("The Mona Lisa was painted by Leonardo da", "Who painted the Mona Lisa?", "Vinci"),
    ("The first President of the United States was George", "Who was the first President of the United States?", "Washington"),
    ("The longest river in Africa is the", "What is the longest river in Africa?", "Nile"),
    ("The largest ocean on Earth is the", "What is the largest ocean on Earth?", "Pacific"),
    ("The tallest mountain in the world is Mount", "What is the tallest mountain in the world?", "Everest"),
    ("The largest desert in Africa is the", "What is the largest desert in Africa?", "Sahara"),
    ("A week has seven days and a year has twelve", "How many months are in a year?", "12"),
    ("The currency of Japan is the", "What is the currency of Japan?", "yen"),
    ("The currency of the United Kingdom is the pound", "What is the currency of the United Kingdom?", "pound"),
    ("The currency of the European Union is the", "What is the currency of the European Union?", "euro"),
    ("Honey is made by", "Which insect makes honey?", "bees"),
    ("The fastest land animal is the", "What is the fastest land animal?", "cheetah"),
    ("The largest mammal on Earth is the blue", "What is the largest mammal on Earth?", "whale"),
    ("The heart pumps", "What does the heart pump around the body?", "blood"),
    ("The Great Wall is in", "In which country is the Great Wall?", "China"),
]


def candidates():
    out = []
    for pair in CAPITALS.split():
        c, a = (x.replace("_", " ") for x in pair.split(":"))
        out.append({"raw_prompt": f"The capital of {c} is", "chat_question": f"What is the capital of {c}?",
                    "answer": a, "kind": "capital"})
    for pair in LANDMARKS.split():
        l, a = (x.replace("_", " ") for x in pair.split(":"))
        out.append({"raw_prompt": f"The {l} is located in the city of",
                    "chat_question": f"In which city is the {l}?", "answer": a, "kind": "landmark"})
    for pair in AUTHORS.split():
        b, a = (x.replace("_", " ") for x in pair.split(":"))
        out.append({"raw_prompt": f"The book {b} was written by",
                    "chat_question": f"Who wrote {b}?", "answer": a, "kind": "author"})
    for pair in LANGUAGES.split():
        c, a = (x.replace("_", " ") for x in pair.split(":"))
        out.append({"raw_prompt": f"The official language of {c} is",
                    "chat_question": f"What is the official language of {c}?", "answer": a, "kind": "language"})
    for pair in CONTINENTS.split():
        c, a = (x.replace("_", " ") for x in pair.split(":"))
        out.append({"raw_prompt": f"{c} is a country on the continent of",
                    "chat_question": f"On which continent is {c}?", "answer": a, "kind": "continent"})
    for raw, q, a in SCIENCE:
        out.append({"raw_prompt": raw, "chat_question": q, "answer": a, "kind": "science"})
    return out


def main():
    from logos_core.base.models import load_model
    from logos_core.measure import evaluate as E
    from logos_core.measure.facts import Probe

    lm = load_model("135m")
    cands = [Probe(**c) for c in candidates()]
    loc = E.locality(lm, cands)
    kept = [c.__dict__ for c, r, h in zip(cands, loc["raw_hits"], loc["chat_hits"]) if r and h]
    out = {"model": "135m", "candidates": len(cands), "licence": "facts of common knowledge, written for "
           "this repository (CC0)", "probes": kept}
    Path(__file__).with_name("locality.json").write_text(json.dumps(out, indent=1) + "\n")
    # The rest are replayed during consolidation (anchors.py), never the probes themselves.
    held = {p["chat_question"] for p in kept}
    rest = [{k: c.__dict__[k] for k in ("raw_prompt", "chat_question", "answer", "kind")} for c in cands
            if c.chat_question not in held]
    replay = {"about": "general-knowledge questions replayed during consolidation (anchors.py), each only in the "
              "mode (raw or chat) where the model at birth answers it right: the locality candidates that are "
              "NOT locality probes, so the probes themselves are never trained on",
              "licence": "CC0, written for this repository", "questions": rest}
    Path(__file__).with_name("replay_knowledge.json").write_text(json.dumps(replay, indent=1) + "\n")
    print(f"kept {len(kept)} of {len(cands)} (raw {loc['raw']:.2f}, chat {loc['chat']:.2f})")


if __name__ == "__main__":
    main()
