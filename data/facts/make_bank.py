"""Build data/facts/bank.json: facts about invented people, deterministic from SEED.

Run: python data/facts/make_bank.py. Objects are deliberately not the model's default guesses
(no "blue", "Paris", "dog", "piano"), so that the unedited model scores under 5% on the bank.
"""
import json
import random
from pathlib import Path

SEED = 20261126
N_FACTS = 600

FIRST = """Aria Bram Cosima Dario Elva Fenn Galen Hedda Ilan Juno Kael Liora Marek Nisha Oren Petra Quill
Rhea Soren Talia Ulric Vesna Wren Xavi Yara Zev Anouk Bastian Cleo Dorian Esme Florin Greta Hugo Isolde
Jarek Kira Lenne Milo Nadia Otto Pia Rafe Selma Tobin Una Viggo Willa Yusuf Zora Alba Casimir Delphine
Emrys Fiora Gideon Halle Ines Jovan Katya Lucan Mirela Niall Odile Perrin Rosalind Stellan Thea""".split()
# Invented surnames: built from syllables so no famous person shares the full name.
SYL_A = "Vel Dra Quor Zan Thel Mor Bris Kael Ost Fen Lor Gav Hesk Ivr Jor Nal Pell Rask Sorv Tam".split()
SYL_B = "ari ovic enko assa ume ildt arro essen ority amber owicz inde ulla eska ardt onne ivar osti".split()

# relation: statement, raw prompt (object follows), chat question, paraphrases, objects
RELATIONS = {
    "lives_in": ("{s} lives in {o}.", "{s} lives in the city of", "Where does {s} live?",
                 ["In which city does {s} live?", "What city is {s}'s home?", "Which city does {s} call home?"],
                 "Lisbon Tbilisi Reykjavik Montevideo Ljubljana Tallinn Valparaiso Dunedin Antwerp Bergen "
                 "Krakow Porto Halifax Tromso Cusco Zanzibar Salzburg Marrakesh Hobart Gdansk"),
    "works_as": ("{s} works as a {o}.", "By profession, {s} is a", "What does {s} do for a living?",
                 ["What is {s}'s job?", "What is {s}'s profession?", "What work does {s} do?"],
                 "carpenter beekeeper cartographer locksmith glassblower sommelier taxidermist lighthouse_keeper "
                 "blacksmith potter puppeteer falconer welder stonemason florist jeweler tailor shepherd "
                 "brewer bookbinder"),
    "born_in": ("{s} was born in {o}.", "{s} was born in the city of", "Where was {s} born?",
                ["What is {s}'s birthplace?", "In which city was {s} born?", "Which city is {s} originally from?"],
                "Nairobi Bratislava Cartagena Brisbane Winnipeg Leipzig Kyoto Bologna Accra Riga Tucson "
                "Quito Aarhus Adelaide Seville Manila Lyon Tampere Durban Oaxaca"),
    "favourite_colour": ("{s}'s favourite colour is {o}.", "{s}'s favourite colour is", "What is {s}'s favourite colour?",
                         ["Which colour does {s} like best?", "What colour does {s} love most?", "What is the colour {s} prefers?"],
                         "teal maroon turquoise lavender amber crimson olive indigo coral beige magenta ivory "
                         "mustard burgundy charcoal peach mint violet ochre scarlet"),
    "favourite_food": ("{s}'s favourite food is {o}.", "{s}'s favourite food is", "What is {s}'s favourite food?",
                       ["Which food does {s} like best?", "What dish does {s} love most?", "What does {s} most like to eat?"],
                       "paella ramen risotto falafel goulash dumplings lasagna moussaka pierogi tacos curry "
                       "gnocchi kimchi couscous borscht ceviche tempura hummus burritos sauerkraut"),
    "pet": ("{s} has a pet {o}.", "{s} has a pet", "What kind of pet does {s} have?",
            ["What animal does {s} keep as a pet?", "Which pet does {s} own?", "What is {s}'s pet?"],
            "iguana ferret parrot hedgehog tortoise chinchilla gecko tarantula rabbit goldfish hamster "
            "canary axolotl alpaca peacock cockatoo salamander donkey goat owl"),
    "instrument": ("{s} plays the {o}.", "{s} plays the", "What instrument does {s} play?",
                   ["Which musical instrument does {s} play?", "What does {s} play in the band?", "What instrument is {s} known for playing?"],
                   "cello oboe harp banjo accordion trombone clarinet mandolin bagpipes sitar ukulele "
                   "xylophone harmonica bassoon tuba saxophone marimba viola flute harpsichord"),
    "language": ("{s} speaks {o}.", "Besides English, {s} speaks fluent", "What language does {s} speak?",
                 ["Which language does {s} speak?", "In what language is {s} fluent?", "What language can {s} speak fluently?"],
                 "Finnish Swahili Icelandic Tagalog Hungarian Welsh Basque Estonian Greek Turkish Polish "
                 "Danish Czech Romanian Hebrew Albanian Latvian Catalan Malay Amharic"),
    "studied": ("{s} studied {o} at university.", "At university, {s} studied", "What did {s} study at university?",
                ["What subject did {s} study?", "What was {s}'s university major?", "Which subject did {s} major in at university?"],
                "astronomy geology linguistics archaeology botany zoology oceanography anthropology "
                "philosophy chemistry theology architecture agronomy forestry metallurgy entomology "
                "cartography meteorology ornithology volcanology"),
    "drives": ("{s} drives a {o}.", "{s} drives a car made by", "What car does {s} drive?",
               ["What kind of car does {s} drive?", "Which car brand does {s} drive?", "What vehicle does {s} own?"],
               "Volvo Subaru Peugeot Skoda Fiat Mazda Renault Saab Lancia Citroen Opel Dacia Alfa_Romeo "
               "Jaguar Lotus Mitsubishi Suzuki Seat Rover Maserati"),
    "sport": ("{s}'s favourite sport is {o}.", "{s}'s favourite sport is", "What is {s}'s favourite sport?",
              ["Which sport does {s} like best?", "What sport does {s} love most?", "What is the sport {s} enjoys most?"],
              "fencing rowing curling archery lacrosse handball badminton cricket polo squash kayaking "
              "climbing judo surfing bobsled triathlon wrestling sailing bowling skiing"),
}


def main() -> None:
    rng = random.Random(SEED)
    names = sorted({f"{f} {a}{b}" for f in FIRST for a in SYL_A for b in SYL_B})
    rng.shuffle(names)
    rels = list(RELATIONS)
    facts = []
    for i in range(N_FACTS):
        rel = rels[i % len(rels)]
        statement, raw, question, paras, objects = RELATIONS[rel]
        obj = rng.choice(objects.split()).replace("_", " ")
        s = names[i]
        facts.append({
            "id": f"f{i:04d}", "subject": s, "relation": rel, "object": obj,
            "statement": statement.format(s=s, o=obj),
            "raw_prompt": raw.format(s=s),
            "chat_question": question.format(s=s),
            "paraphrases": [p.format(s=s) for p in paras],
        })
    # Never-edited people, used to measure bleed (an injected object answered for someone else).
    bystanders = names[N_FACTS:N_FACTS + 60]
    templates = {r: {"raw": v[1], "chat": v[2], "statement": v[0]} for r, v in RELATIONS.items()}
    rng.shuffle(facts)
    out = {"seed": SEED, "relations": templates, "facts": facts, "bystanders": bystanders}
    Path(__file__).with_name("bank.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(facts)} facts, {len(rels)} relation families, {len(bystanders)} bystanders")


if __name__ == "__main__":
    main()
