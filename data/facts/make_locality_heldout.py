"""Build data/facts/locality_heldout.json: the held-out locality split.

Run: python data/facts/make_locality_heldout.py. The probes in locality.json are the tuning split:
consolidation settings were chosen while watching them, and the knowledge replay is drawn from the
same candidates. This split shares nothing with any of that. Its kinds (US state and province
capitals, inventors and founders, composers, painters, animals' young and sounds, opposites,
grammar, the calendar, elements by symbol, sums, fiction, famous people, shapes, myths, sports) are not among the tuning kinds, and a candidate is dropped when its entity or its
answer is a word sequence of anything the model is trained on or tuned against: the tuning probes,
the knowledge replay, the unrelated replay prompts and the birth model's answers to them, the
contrast people and the training questions, and the fact bank (people, objects, statements).
Of the rest, those the unedited model answers right raw, in chat or both are kept (the 135M model
knows few facts both ways); locality counts each probe in each mode it answered right at birth. No setting
is chosen on this split; it is only reported.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from logos_core.measure.facts import normalise  # noqa: E402
from logos_core.sleep.anchors import CONTRAST_PEOPLE, REPLAY_PROMPTS  # noqa: E402
from logos_core.wake.relations import GENERIC_QUESTIONS, TRAIN_QUESTIONS  # noqa: E402

HERE = Path(__file__).resolve().parent

STATES = """Alabama:Montgomery Alaska:Juneau Arizona:Phoenix Arkansas:Little_Rock California:Sacramento
Colorado:Denver Connecticut:Hartford Delaware:Dover Florida:Tallahassee Hawaii:Honolulu Idaho:Boise
Illinois:Springfield Indiana:Indianapolis Iowa:Des_Moines Kansas:Topeka Kentucky:Frankfort
Louisiana:Baton_Rouge Maine:Augusta Maryland:Annapolis Massachusetts:Boston Michigan:Lansing
Minnesota:Saint_Paul Mississippi:Jackson Missouri:Jefferson_City Montana:Helena Nebraska:Lincoln
Nevada:Carson_City New_Hampshire:Concord New_Jersey:Trenton New_Mexico:Santa_Fe North_Carolina:Raleigh
North_Dakota:Bismarck Ohio:Columbus Oklahoma:Oklahoma_City Oregon:Salem Pennsylvania:Harrisburg
Rhode_Island:Providence South_Carolina:Columbia South_Dakota:Pierre Tennessee:Nashville Texas:Austin
Utah:Salt_Lake_City Vermont:Montpelier Virginia:Richmond West_Virginia:Charleston Wisconsin:Madison
Wyoming:Cheyenne"""

PROVINCES = """Ontario:Toronto Quebec:Quebec_City British_Columbia:Victoria Alberta:Edmonton
Saskatchewan:Regina New_Brunswick:Fredericton Prince_Edward_Island:Charlottetown"""

AUSTRALIAN = """Victoria:Melbourne Western_Australia:Perth Northern_Territory:Darwin"""

# (raw prompt, chat question, answer, entity, kind)
MADE = [
    ("The telephone was invented by Alexander Graham", "Who invented the telephone?", "Bell", "telephone", "inventor"),
    ("The light bulb is credited to Thomas", "Who is credited with inventing the light bulb?", "Edison", "light bulb", "inventor"),
    ("The printing press was invented by Johannes", "Who invented the printing press?", "Gutenberg", "printing press", "inventor"),
    ("Dynamite was invented by Alfred", "Who invented dynamite?", "Nobel", "dynamite", "inventor"),
    ("Penicillin was discovered by Alexander", "Who discovered penicillin?", "Fleming", "penicillin", "inventor"),
    ("The laws of motion were formulated by Isaac", "Who formulated the three laws of motion?", "Newton", "laws of motion", "inventor"),
    ("The first powered airplane was flown by the", "Who flew the first powered airplane?", "Wright", "airplane", "inventor"),
    ("The radio was invented by Guglielmo", "Who invented the radio?", "Marconi", "radio", "inventor"),
    ("The World Wide Web was invented by Tim", "Who invented the World Wide Web?", "Berners", "World Wide Web", "inventor"),
    ("The polio vaccine was developed by Jonas", "Who developed the polio vaccine?", "Salk", "polio vaccine", "inventor"),
    ("The periodic table was created by Dmitri", "Who created the periodic table?", "Mendeleev", "periodic table", "inventor"),
    ("The steam engine was improved by James", "Who improved the steam engine?", "Watt", "steam engine", "inventor"),
    ("Microsoft was founded by Bill", "Who founded Microsoft?", "Gates", "Microsoft", "inventor"),
    ("Facebook was founded by Mark", "Who founded Facebook?", "Zuckerberg", "Facebook", "inventor"),
    ("Amazon was founded by Jeff", "Who founded Amazon?", "Bezos", "Amazon", "inventor"),
    ("SpaceX was founded by Elon", "Who founded SpaceX?", "Musk", "SpaceX", "inventor"),
    ("Psychoanalysis was founded by Sigmund", "Who founded psychoanalysis?", "Freud", "psychoanalysis", "inventor"),
    ("The Communist Manifesto was written by Karl", "Who wrote The Communist Manifesto with Engels?", "Marx", "Communist Manifesto", "inventor"),
    ("Radium and polonium were discovered by Marie", "Who discovered radium and polonium?", "Curie", "radium", "inventor"),
    ("The Greek god of the sea is", "Who is the Greek god of the sea?", "Poseidon", "god of the sea", "myth"),
    ("The king of the Greek gods is", "Who is the king of the Greek gods?", "Zeus", "king of the gods", "myth"),
    ("The Norse god of thunder is", "Who is the Norse god of thunder?", "Thor", "god of thunder", "myth"),
    ("The Greek goddess of love is", "Who is the Greek goddess of love?", "Aphrodite", "goddess of love", "myth"),
    ("The Greek god of the underworld is", "Who is the Greek god of the underworld?", "Hades", "underworld", "myth"),
    ("The Greek goddess of wisdom is", "Who is the Greek goddess of wisdom?", "Athena", "goddess of wisdom", "myth"),
    ("Wimbledon is a tournament in the sport of", "Which sport is played at Wimbledon?", "tennis", "Wimbledon", "sport"),
    ("The Tour de France is a race in the sport of", "What sport is the Tour de France?", "cycling", "Tour de France", "sport"),
    ("The Stanley Cup is the trophy of ice", "In which sport is the Stanley Cup awarded?", "hockey", "Stanley Cup", "sport"),
    ("The Super Bowl is the championship game of American", "The Super Bowl is the championship of which sport?", "football", "Super Bowl", "sport"),
    ("The NBA is a professional league of", "Which sport does the NBA play?", "basketball", "NBA", "sport"),
    ("A home run is hit in the game of", "In which sport do players hit a home run?", "baseball", "home run", "sport"),
    ("Checkmate ends a game of", "Which game ends with checkmate?", "chess", "checkmate", "sport"),
    ("A hole in one is a shot in the game of", "In which sport can you score a hole in one?", "golf", "hole in one", "sport"),
    ("The organs we breathe with are the", "Which organs do we breathe with?", "lungs", "breathe with", "nature"),
    ("The organ we think with is the", "Which organ do we think with?", "brain", "think with", "nature"),
    ("The largest organ of the human body is the", "What is the largest organ of the human body?", "skin", "largest organ", "nature"),
    ("The planet famous for its rings is", "Which planet is famous for its rings?", "Saturn", "famous for its rings", "nature"),
    ("The star at the centre of our solar system is the", "What star is at the centre of our solar system?", "Sun", "star at the centre", "nature"),
]

COMPOSERS = """Moonlight_Sonata:Beethoven The_Magic_Flute:Mozart The_Four_Seasons:Vivaldi Swan_Lake:Tchaikovsky
The_Nutcracker:Tchaikovsky Messiah:Handel Brandenburg_Concertos:Bach Bolero:Ravel Carmen:Bizet
Ride_of_the_Valkyries:Wagner The_Blue_Danube:Strauss Clair_de_Lune:Debussy The_Planets:Holst
Rhapsody_in_Blue:Gershwin Eine_kleine_Nachtmusik:Mozart Ode_to_Joy:Beethoven Fur_Elise:Beethoven
The_Rite_of_Spring:Stravinsky Canon_in_D:Pachelbel William_Tell_Overture:Rossini La_Traviata:Verdi
Madama_Butterfly:Puccini"""

PAINTERS = """The_Starry_Night:Gogh The_Scream:Munch Guernica:Picasso The_Persistence_of_Memory:Dali
Water_Lilies:Monet Girl_with_a_Pearl_Earring:Vermeer The_Night_Watch:Rembrandt The_Birth_of_Venus:Botticelli
The_Creation_of_Adam:Michelangelo The_Kiss:Klimt Campbell's_Soup_Cans:Warhol Las_Meninas:Velazquez
Sunflowers:Gogh The_Garden_of_Earthly_Delights:Bosch"""

YOUNG = """cat:kitten cow:calf horse:foal sheep:lamb frog:tadpole kangaroo:joey goose:gosling deer:fawn
swan:cygnet pig:piglet hen:chick duck:duckling eagle:eaglet bear:cub"""

OPPOSITES = """big:small fast:slow up:down day:night old:young rich:poor full:empty early:late open:closed
strong:weak loud:quiet win:lose love:hate push:pull true:false north:south east:west inside:outside
thick:thin sweet:sour top:bottom before:after always:never question:answer war:peace buy:sell
begin:end friend:enemy arrive:depart cheap:expensive"""

SHAPES = """five:pentagon six:hexagon eight:octagon ten:decagon"""

PAST = """go:went eat:ate see:saw run:ran write:wrote speak:spoke take:took give:gave drink:drank sing:sang
swim:swam fly:flew know:knew think:thought bring:brought buy:bought catch:caught teach:taught drive:drove
ride:rode break:broke choose:chose forget:forgot freeze:froze steal:stole wear:wore throw:threw grow:grew
draw:drew fall:fell feel:felt keep:kept meet:met sit:sat stand:stood tell:told"""

PLURAL = """mouse:mice child:children man:men woman:women foot:feet tooth:teeth person:people ox:oxen
cactus:cacti"""

MONTHS = "January February March April May June July August September October November December".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

ELEMENTS = """Fe:iron Ag:silver Na:sodium K:potassium H:hydrogen He:helium Cu:copper Pb:lead Ca:calcium
N:nitrogen Sn:tin Zn:zinc Ne:neon S:sulfur Cl:chlorine Mg:magnesium Pt:platinum U:uranium"""

FICTION = [
    ("Sherlock Holmes's friend and assistant is Doctor", "What is the name of Sherlock Holmes's friend, the doctor?", "Watson", "Sherlock Holmes"),
    ("Mickey Mouse was created by Walt", "Who created Mickey Mouse?", "Disney", "Mickey Mouse"),
    ("Batman's real name is Bruce", "What is Batman's real name?", "Wayne", "Batman"),
    ("Superman's real name is Clark", "What is Superman's real name?", "Kent", "Superman"),
    ("Spider-Man's real name is Peter", "What is Spider-Man's real name?", "Parker", "Spider-Man"),
    ("The boy who never grows up is Peter", "Who is the boy who never grows up, in the story by J. M. Barrie?", "Pan", "never grows up"),
    ("Winnie the Pooh's best friend, a small pig, is called", "What is the name of Winnie the Pooh's piglet friend?", "Piglet", "Winnie the Pooh"),
    ("Snow White lived with seven", "Who did Snow White live with in the forest?", "dwarfs", "Snow White"),
]

SOUNDS = """cow:moo sheep:baa duck:quack snake:hiss horse:neigh pig:oink frog:croak mouse:squeak donkey:bray
wolf:howl"""

COLOURS = """banana:yellow snow:white grass:green sky:blue tomato:red flamingo:pink pumpkin:orange"""

PEOPLE = [
    ("John Lennon was a member of the band the", "Which band was John Lennon a member of?", "Beatles", "John Lennon"),
    ("Mick Jagger is the lead singer of the Rolling", "Which band is Mick Jagger the singer of?", "Stones", "Mick Jagger"),
    ("Elvis Presley was known as the King of", "Elvis Presley was known as the King of what?", "Rock", "Elvis Presley"),
    ("Michael Jackson was known as the King of", "Michael Jackson was known as the King of what?", "Pop", "Michael Jackson"),
    ("Michael Jordan was a famous player of", "Which sport did Michael Jordan play?", "basketball", "Michael Jordan"),
    ("Serena Williams is a famous player of", "Which sport does Serena Williams play?", "tennis", "Serena Williams"),
    ("Tiger Woods is a famous player of", "Which sport does Tiger Woods play?", "golf", "Tiger Woods"),
    ("Usain Bolt is famous as the world's fastest", "What is Usain Bolt famous for?", "sprinter", "Usain Bolt"),
    ("The president who ended slavery in America was Abraham", "Which American president ended slavery?", "Lincoln", "ended slavery"),
    ("The civil rights leader who said I have a dream was Martin Luther", "Who gave the I Have a Dream speech?", "King", "I have a dream"),
]

# A famous person's first name and what they are known for; the answer is the surname.
FAMOUS = """Nikola:Tesla:the_inventor_of_alternating_current_systems Galileo:Galilei:the_astronomer_who_used_an_early_telescope
Alan:Turing:the_British_codebreaker_and_computer_pioneer Stephen:Hawking:the_physicist_who_studied_black_holes
Niels:Bohr:the_Danish_physicist_of_the_atom Max:Planck:the_father_of_quantum_theory
Louis:Pasteur:the_French_chemist_of_pasteurisation Gregor:Mendel:the_father_of_genetics
Johannes:Kepler:the_astronomer_of_planetary_motion Nicolaus:Copernicus:the_astronomer_who_put_the_Sun_at_the_centre
Michael:Faraday:the_scientist_of_electromagnetism Ada:Lovelace:the_first_computer_programmer
Edwin:Hubble:the_astronomer_of_the_expanding_universe Richard:Feynman:the_American_physicist_of_quantum_electrodynamics
Enrico:Fermi:the_builder_of_the_first_nuclear_reactor Robert:Oppenheimer:the_director_of_the_Manhattan_Project
Charles:Babbage:the_inventor_of_the_difference_engine Carl:Sagan:the_astronomer_who_presented_Cosmos
Winston:Churchill:the_British_prime_minister_in_the_Second_World_War Napoleon:Bonaparte:the_French_emperor
Julius:Caesar:the_Roman_general_and_dictator Nelson:Mandela:the_first_black_president_of_South_Africa
Mahatma:Gandhi:the_leader_of_Indian_independence Franklin:Roosevelt:the_American_president_of_the_New_Deal
John:Kennedy:the_American_president_killed_in_Dallas_in_1963 Genghis:Khan:the_founder_of_the_Mongol_Empire
Alexander:Great:the_Macedonian_king_who_conquered_Persia Joan:Arc:the_French_heroine_burned_in_1431
Christopher:Columbus:the_explorer_who_sailed_in_1492 Ferdinand:Magellan:the_leader_of_the_first_voyage_around_the_world
Marco:Polo:the_Venetian_traveller_to_China Vasco:Gama:the_Portuguese_explorer_who_reached_India_by_sea
Wolfgang:Mozart:the_child_prodigy_composer_from_Salzburg Ludwig:Beethoven:the_deaf_composer_of_nine_symphonies
Johann:Bach:the_German_baroque_composer Frederic:Chopin:the_Polish_composer_of_piano_music
Pablo:Picasso:the_Spanish_painter_of_cubism Vincent:Gogh:the_Dutch_painter_who_cut_off_his_ear
Claude:Monet:the_French_impressionist_painter Salvador:Dali:the_Spanish_surrealist_painter
Andy:Warhol:the_American_pop_artist Frida:Kahlo:the_Mexican_painter_of_self_portraits
Ernest:Hemingway:the_American_writer_of_The_Old_Man_and_the_Sea Edgar:Poe:the_American_writer_of_The_Raven
Agatha:Christie:the_English_writer_of_detective_novels Victor:Hugo:the_French_writer_of_Les_Miserables
Franz:Kafka:the_writer_of_The_Metamorphosis Oscar:Wilde:the_Irish_writer_of_The_Picture_of_Dorian_Gray
Muhammad:Ali:the_boxer_who_said_he_was_the_greatest Cristiano:Ronaldo:the_Portuguese_footballer
Lionel:Messi:the_Argentine_footballer Roger:Federer:the_Swiss_tennis_champion
Babe:Ruth:the_baseball_home_run_hitter Michael:Phelps:the_American_swimmer_with_the_most_Olympic_gold_medals
Charlie:Chaplin:the_silent_film_comedian Marilyn:Monroe:the_American_film_star_of_the_1950s
Walt:Whitman:the_American_poet_of_Leaves_of_Grass Bob:Marley:the_Jamaican_reggae_singer
Steve:Jobs:the_co-founder_of_Apple Larry:Page:the_co-founder_of_Google Sigmund:Freud:
Neil:Armstrong: Buzz:Aldrin:the_second_man_on_the_Moon Yuri:Gagarin:the_first_man_in_space
Amelia:Earhart:the_aviator_who_flew_alone_across_the_Atlantic Florence:Nightingale:the_nurse_of_the_Crimean_War
Thomas:Jefferson:the_author_of_the_Declaration_of_Independence Benjamin:Franklin:the_American_who_flew_a_kite_in_a_storm
Karl:Marx: Adolf:Hitler:the_dictator_of_Nazi_Germany Joseph:Stalin:the_Soviet_dictator
Vladimir:Lenin:the_leader_of_the_Russian_Revolution Fidel:Castro:the_Cuban_revolutionary_leader
Elvis:Presley:the_king_of_rock_and_roll Freddie:Mercury: Jimi:Hendrix:the_rock_guitarist_of_Purple_Haze
Leonardo:DiCaprio:the_actor_of_Titanic Tom:Hanks:the_actor_of_Forrest_Gump
Steven:Spielberg:the_director_of_Jaws Alfred:Hitchcock:the_director_of_Psycho
Stanley:Kubrick:the_director_of_2001_A_Space_Odyssey George:Lucas:the_creator_of_Star_Wars
Bill:Clinton:the_42nd_president_of_the_United_States Barack:Obama:the_first_African_American_president
Margaret:Thatcher:the_first_female_British_prime_minister Angela:Merkel:the_German_chancellor_from_2005_to_2021
Martin:Luther:the_monk_who_started_the_Reformation Rosa:Parks:the_woman_who_refused_to_give_up_her_bus_seat
Anne:Frank:the_girl_who_wrote_a_diary_in_hiding Helen:Keller:the_deaf_and_blind_author
Harriet:Tubman:the_leader_of_the_Underground_Railroad Warren:Buffett:the_investor_called_the_Oracle_of_Omaha
Henry:Ford:the_maker_of_the_Model_T Diego:Maradona:the_footballer_of_the_Hand_of_God
Rafael:Nadal:the_Spanish_tennis_champion_on_clay Novak:Djokovic:the_Serbian_tennis_champion
Kobe:Bryant:the_basketball_star_called_the_Black_Mamba Wayne:Gretzky:the_ice_hockey_player_called_the_Great_One
Simone:Biles:the_American_gymnast_with_the_most_world_titles Taylor:Swift:the_American_pop_singer_of_Shake_It_Off
Frank:Sinatra:the_singer_of_My_Way Whitney:Houston:the_singer_of_I_Will_Always_Love_You
Kurt:Cobain:the_singer_of_Nirvana Paul:McCartney:the_bass_player_of_the_Beatles
Elton:John:the_singer_of_Rocket_Man David:Bowie:the_singer_of_Space_Oddity
William:Wordsworth:the_poet_of_the_daffodils Emily:Dickinson:the_American_poet_of_Amherst
Charlotte:Bronte:the_author_of_Jane_Eyre Lewis:Carroll:the_author_of_Alice_in_Wonderland
Roald:Dahl:the_author_of_Charlie_and_the_Chocolate_Factory Dante:Alighieri:the_poet_of_the_Divine_Comedy
Immanuel:Kant:the_German_philosopher_of_the_Critique_of_Pure_Reason Friedrich:Nietzsche:the_philosopher_who_said_God_is_dead
Rene:Descartes:the_philosopher_who_said_I_think_therefore_I_am Adam:Smith:the_economist_of_The_Wealth_of_Nations
Jane:Goodall:the_scientist_who_studied_chimpanzees Jacques:Cousteau:the_French_undersea_explorer
Edmund:Hillary:the_New_Zealand_mountaineer_of_1953 Roald:Amundsen:the_first_explorer_to_reach_the_South_Pole
James:Cook:the_British_navigator_of_the_Endeavour Hernan:Cortes:the_Spanish_conqueror_of_the_Aztecs
Ivan:Pavlov:the_scientist_of_the_salivating_dogs Samuel:Morse:the_inventor_of_the_telegraph_code
Linus:Torvalds:the_creator_of_Linux Sergey:Brin:the_other_co-founder_of_Google
Grace:Hopper:the_computer_scientist_of_COBOL Antoine:Lavoisier:the_French_chemist_who_named_oxygen
Erwin:Schrodinger:the_physicist_with_the_cat_in_a_box Werner:Heisenberg:the_physicist_of_the_uncertainty_principle
Rosalind:Franklin:the_scientist_whose_X-ray_photograph_showed_DNA Isaac:Asimov:the_science_fiction_writer_of_I_Robot Jules:Verne:the_writer_of_Twenty_Thousand_Leagues_Under_the_Sea"""

ARITHMETIC = [(3, 4), (5, 6), (7, 2), (9, 1), (6, 6), (8, 5), (10, 10), (4, 9), (20, 30), (15, 5)]


def _pairs(block):
    return [tuple(x.replace("_", " ") for x in p.split(":")) for p in block.split()]


def candidates():
    out = []

    def add(raw, chat, answer, entity, kind):
        out.append({"raw_prompt": raw, "chat_question": chat, "answer": answer, "kind": kind, "entity": entity})

    for s, a in _pairs(STATES):
        add(f"The capital of the US state of {s} is", f"What is the capital of the US state of {s}?", a, s,
            "state_capital")
    for s, a in _pairs(PROVINCES):
        add(f"The capital of the Canadian province of {s} is", f"What is the capital of the Canadian province "
            f"of {s}?", a, s, "state_capital")
    for s, a in _pairs(AUSTRALIAN):
        add(f"The capital of the Australian state of {s} is", f"What is the capital of the Australian state "
            f"of {s}?", a, s, "state_capital")
    for w, a in _pairs(COMPOSERS):
        add(f"The music of {w} was composed by", f"Who composed {w}?", a, w, "composer")
    for w, a in _pairs(PAINTERS):
        add(f"The painting {w} was painted by", f"Who painted {w}?", a, w, "painter")
    for x, a in _pairs(YOUNG):
        add(f"A baby {x} is called a", f"What is a baby {x} called?", a, x, "young")
    for x, a in _pairs(OPPOSITES):
        add(f"The opposite of {x} is", f"What is the opposite of {x}?", a, x, "opposite")
    for n, a in _pairs(SHAPES):
        add(f"A flat shape with {n} sides is called a", f"What is a flat shape with {n} sides called?", a,
            f"{n} sides", "shape")
    for x, a in _pairs(PAST):
        add(f"The past tense of the verb to {x} is", f"What is the past tense of the verb to {x}?", a, x, "grammar")
    for x, a in _pairs(PLURAL):
        add(f"The plural of the word {x} is", f"What is the plural of the word {x}?", a, x, "grammar")
    for a, b in zip(MONTHS, MONTHS[1:]):
        add(f"The month after {a} is", f"Which month comes after {a}?", b, a, "calendar")
    for a, b in zip(DAYS, DAYS[1:]):
        add(f"The day after {a} is", f"Which day comes after {a}?", b, a, "calendar")
    for x, a in _pairs(ELEMENTS):
        add(f"The chemical element with the symbol {x} is", f"Which chemical element has the symbol {x}?", a,
            x, "element")
    for a, b in ARITHMETIC:
        add(f"{a} + {b} =", f"What is {a} plus {b}?", str(a + b), f"{a} plus {b}", "arithmetic")
    for x, a in _pairs(SOUNDS):
        add(f"The sound a {x} makes is called a", f"What sound does a {x} make?", a, x, "sound")
    for x, a in _pairs(COLOURS):
        add(f"The colour of a ripe {x} is" if x in ("banana", "tomato", "pumpkin") else f"The colour of {x} is",
            f"What colour is a ripe {x}?" if x in ("banana", "tomato", "pumpkin") else f"What colour is {x}?",
            a, x, "colour")
    for line in FAMOUS.split():
        first, last, known = line.split(":")
        if not known:
            continue
        known = known.replace("_", " ")
        add(f"{known[0].upper()}{known[1:]} was {first}", f"Who was {known}?", last, f"{first} {last}", "famous")
    for raw, chat, a, e in FICTION:
        add(raw, chat, a, e, "fiction")
    for raw, chat, a, e in PEOPLE:
        add(raw, chat, a, e, "people")
    for raw, chat, a, e, kind in MADE:
        add(raw, chat, a, e, kind)
    return out


def used_texts(replay_answers: list) -> tuple:
    """(every text the model is trained on or tuned against, as far as facts go (see the docstring);
    the answers and objects among them)."""
    texts = list(REPLAY_PROMPTS) + list(CONTRAST_PEOPLE) + list(GENERIC_QUESTIONS) + list(replay_answers)
    texts += [q for qs in TRAIN_QUESTIONS.values() for q in qs]
    objects = set()
    for name in ("locality.json", "replay_knowledge.json"):
        raw = json.loads((HERE / name).read_text())
        probes = raw.get("probes", raw.get("questions", []))
        texts += [v for p in probes for k, v in p.items() if k != "kind"]
        objects |= {p["answer"] for p in probes}
    bank = json.loads((HERE / "bank.json").read_text())
    texts += list(bank["bystanders"])
    texts += [v for f in bank["facts"] for k, v in f.items() if k in ("subject", "object", "statement",
                                                                       "raw_prompt", "chat_question")]
    texts += [p for f in bank["facts"] for p in f["paraphrases"]]
    texts += [v for r in bank["relations"].values() for v in r.values() if isinstance(v, str)]
    objects |= {f["object"] for f in bank["facts"]}
    return texts, objects


def overlaps(probe: dict, used: str, objects: set) -> bool:
    """Whether the probe's entity or answer occurs, as whole words, in `used` (normalised text), or
    one of `objects` occurs in its prompt or question."""
    asked = normalise(probe["raw_prompt"] + " " + probe["chat_question"])
    return (any(normalise(x) in used for x in (probe["entity"], probe["answer"]))
            or any(normalise(o) in asked for o in objects))


def main():
    from logos_core.base.models import load_model
    from logos_core.measure import evaluate as E
    from logos_core.measure.facts import Probe

    lm = load_model("135m")
    # The unrelated replay's answers are the birth model's, greedy, as make_anchors asks them.
    replay_answers = [a.strip() for a in E.ask_chat(lm, list(REPLAY_PROMPTS), max_new_tokens=40)]
    texts, objects = used_texts(replay_answers)
    used = " ".join(normalise(t) for t in texts)
    cands = candidates()
    free = [c for c in cands if not overlaps(c, used, objects)]
    loc = E.locality(lm, [Probe(**c) for c in free])
    kept = [c for c, r, h in zip(free, loc["raw_hits"], loc["chat_hits"]) if r or h]
    out = {"model": "135m", "split": "held-out: never used to choose a setting", "candidates": len(cands),
           "disjoint": len(free), "licence": "facts of common knowledge, written for this repository (CC0)",
           "replay_answers": replay_answers, "probes": kept}
    (HERE / "locality_heldout.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cands)} candidates, {len(free)} disjoint, kept {len(kept)} (raw {loc['raw']:.2f}, "
          f"chat {loc['chat']:.2f})")


if __name__ == "__main__":
    main()
