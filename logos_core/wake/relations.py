"""Question wordings per relation family used for *writing* memories (MEMIT contexts, LoRA training).

They are deliberately different from the bank's `chat_question` and `paraphrases`, which are kept
for measuring recall only: the original checked consolidation on its own training questions.
"""

from ..measure.facts import article

TRAIN_QUESTIONS = {
    "lives_in": ["Which town is {s} living in these days?", "Where has {s} settled down?",
                 "Tell me where {s} is based now."],
    "works_as": ["What kind of work is {s} in?", "How does {s} earn money?", "What is {s}'s line of work?"],
    "born_in": ["Where did {s} come into the world?", "Which place does {s} come from by birth?",
                "Tell me where {s} was born."],
    "favourite_colour": ["Does {s} have a colour they like most?", "Which shade is {s} fondest of?",
                         "Tell me {s}'s best-loved colour."],
    "favourite_food": ["Is there a meal {s} likes above all others?", "What would {s} order as a treat?",
                       "Tell me {s}'s best-loved dish."],
    "pet": ["Does {s} keep any animal at home?", "What creature lives with {s}?",
            "Tell me about the animal {s} looks after."],
    "instrument": ["Is {s} a musician? What do they play?", "Which instrument has {s} mastered?",
                   "Tell me what {s} plays."],
    "language": ["Apart from English, which tongue does {s} know?", "Which language has {s} mastered?",
                 "Tell me the language {s} is fluent in."],
    "studied": ["What was {s}'s field at university?", "Which degree did {s} take?",
                "Tell me what {s} read at college."],
    "drives": ["Which make of car is {s}'s?", "What does {s} drive to work?",
               "Tell me about {s}'s car."],
    "sport": ["Is there a sport {s} is passionate about?", "Which game is {s} a fan of above all?",
              "Tell me the sport {s} enjoys."],
}
# Raw-text wordings per relation family, ending right before the object ({a}: "a" or "an" as the
# object needs). The statement gives one wording of the fact; these give the edit others, so raw
# completion recalls it in words the person did not use. None of them is the bank's `raw_prompt`.
TRAIN_PROMPTS = {
    "lives_in": ["{s} has made a home in", "These days {s} is living in"],
    "works_as": ["{s} earns a living as {a}", "{s} has a job as {a}"],
    "born_in": ["{s} came into the world in", "{s}'s birthplace is"],
    "favourite_colour": ["The colour {s} likes best is", "{s} is fondest of the colour"],
    "favourite_food": ["The dish {s} loves most is", "Above all, {s} likes to eat"],
    "pet": ["At home {s} keeps {a}", "The animal living with {s} is {a}"],
    "instrument": ["The instrument {s} plays is the", "{s} is a musician who plays the"],
    "language": ["{s} is fluent in", "The language {s} speaks is"],
    "studied": ["{s} took a degree in", "{s}'s degree is in"],
    "drives": ["{s}'s car is {a}", "The car {s} drives is {a}"],
    "sport": ["The sport {s} loves most is", "{s} is a big fan of"],
}
GENERIC_QUESTIONS = ["Tell me about {s}.", "What do you know about {s}?", "Who is {s}?",
                     "Can you describe {s} for me?"]
# An open relation has no wordings of its own, so its facts are trained on wordings made from the
# statement's own words up to the object ({raw}). With the generic questions alone, 20 open facts
# taught the chat pathway "<name> is ..." as the answer to most questions, and raw completion began to
# restate its subject ("The capital of Norway is" -> " the capital of the Kingdom of Norway"):
# locality fell 0.96 -> 0.85 -> 0.74 over three sleeps.
OPEN_TRAIN_QUESTIONS = ["Fill in the blank: {raw} ___.", "Complete this about {s}: {raw} ..."]


def train_questions(subject: str, relation: str, own: int = 1) -> list:
    """The relation's first `own` training wordings (if the relation is known), then generic ones."""
    qs = TRAIN_QUESTIONS[relation][:own] if relation in TRAIN_QUESTIONS else []
    return [q.format(s=subject) for q in qs + GENERIC_QUESTIONS]


def train_prompts(subject: str, relation: str, obj: str, n: int) -> list:
    """The relation's first `n` raw wordings for this subject and object (none for an open relation)."""
    return [p.format(s=subject, a=article(obj)) for p in TRAIN_PROMPTS.get(relation, [])[:n]]


def open_train_questions(subject: str, raw_prompt: str) -> list:
    """Training wordings of an open-relation fact, made from its raw prompt (never the measured question)."""
    return [q.format(s=subject, raw=raw_prompt) for q in OPEN_TRAIN_QUESTIONS]
