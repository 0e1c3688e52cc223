"""Question wordings per relation family used for *writing* memories (MEMIT contexts, LoRA training).

They are deliberately different from the bank's `chat_question` and `paraphrases`, which are kept
for measuring recall only: the original checked consolidation on its own training questions.
"""

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
GENERIC_QUESTIONS = ["Tell me about {s}.", "What do you know about {s}?", "Who is {s}?",
                     "Can you describe {s} for me?"]


def train_questions(subject: str, relation: str, own: int = 1) -> list:
    """The relation's first `own` training wordings (if the relation is known), then generic ones."""
    qs = TRAIN_QUESTIONS[relation][:own] if relation in TRAIN_QUESTIONS else []
    return [q.format(s=subject) for q in qs + GENERIC_QUESTIONS]
