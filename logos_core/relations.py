"""Question wordings per relation family used for *writing* memories (MEMIT contexts, LoRA training).

They are deliberately different from the bank's `chat_question` and `paraphrases`, which are kept
for measuring recall only: the original checked consolidation on its own training questions.
"""

TRAIN_QUESTIONS = {
    "lives_in": "Which town is {s} living in these days?",
    "works_as": "What kind of work is {s} in?",
    "born_in": "Where did {s} come into the world?",
    "favourite_colour": "Does {s} have a colour they like most?",
    "favourite_food": "Is there a meal {s} likes above all others?",
    "pet": "Does {s} keep any animal at home?",
    "instrument": "Is {s} a musician? What do they play?",
    "language": "Apart from English, which tongue does {s} know?",
    "studied": "What was {s}'s field at university?",
    "drives": "Which make of car is {s}'s?",
    "sport": "Is there a sport {s} is passionate about?",
}
GENERIC_QUESTIONS = ["Tell me about {s}.", "What do you know about {s}?", "Who is {s}?",
                     "Can you describe {s} for me?"]


def train_questions(subject: str, relation: str) -> list:
    """The relation's own training question first (if known), then generic ones."""
    qs = [TRAIN_QUESTIONS[relation]] if relation in TRAIN_QUESTIONS else []
    return [q.format(s=subject) for q in qs + GENERIC_QUESTIONS]
