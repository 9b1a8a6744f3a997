"""Shared test data for suggestions: a small, clearly separated codebook (five topics) with
paraphrases and off-topic talk, and a fast word-hashing stand-in for the embedding model.

Shared by the suggestion tests (pure scoring, the facade and the app), so all check the same cases.
"""

import hashlib
import re

import numpy as np

from coding.embeddings import normalize_rows


class WordHashing:
    """A fast stand-in model: bag of words hashed into 256 dimensions (similar words, similar vectors)."""

    model_id = "test-word-hashing"
    dim = 256

    def __init__(self):
        self.encoded = 0

    def encode(self, texts, *, batch_size=64):
        self.encoded += len(texts)
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                rows[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return normalize_rows(rows)


CODEBOOK = """
codebook: 1
title: Test topics
frames:
  - id: topics
    label: Topics
    description: What the respondent talks about.
    mutually_exclusive: true
    codes:
      - id: cooking
        label: Cooking and food
        parent: null
        definition: The respondent talks about preparing meals, recipes, ingredients or eating.
        include: [Baking bread or cakes, Choosing vegetables at the market for dinner]
        exclude: [Restaurant business finances and profits]
        examples: [I make soup from fresh carrots and onions every Sunday.]
      - id: football
        label: Football
        definition: The respondent talks about playing or watching football matches, teams and goals.
        include: [Training sessions of a football club]
        exclude: []
        examples: [Our team scored two goals in the second half.]
      - id: weather
        label: Weather
        definition: The respondent describes the weather, rain, snow, temperature or storms.
        include: [Forecasts of heat or frost]
        exclude: []
        examples: [It has been raining for three days and the wind is strong.]
      - id: banking
        label: Banking and loans
        definition: The respondent talks about bank accounts, interest rates, loans and mortgages.
        include: [Paying off a credit card]
        exclude: []
        examples: [The bank raised the interest rate on my mortgage.]
      - id: medicine
        label: Illness and medical treatment
        definition: The respondent talks about being ill, visiting a doctor, hospitals or medicines.
        include: [Taking antibiotics for an infection]
        exclude: []
        examples: [I spent a week in hospital with pneumonia.]
"""

PARAPHRASES = {
    "cooking": "Yesterday I prepared a stew with potatoes and beef following my grandmother's recipe.",
    "football": "We watched the match and the striker kicked the ball into the net twice.",
    "weather": "A cold storm brought heavy snow and freezing temperatures overnight.",
    "banking": "I took out a loan and now the monthly repayments and interest are high.",
    "medicine": "The doctor prescribed pills because I had a high fever and the flu.",
}
OFF_TOPIC = ["Could you repeat the question, please?", "Thank you, that is all from my side.",
             "My office is on the third floor of the building.", "I will answer that later."]
BACKGROUND = [
    "We discussed the agenda of the meeting.", "The train leaves at nine in the morning.",
    "She is reading a novel about a detective.", "The printer on our floor is broken again.",
    "They painted the fence green last summer.", "My son goes to the second grade.",
    "The museum opens a new exhibition next week.", "I forgot my keys at home.",
    "The report has twelve chapters.", "He plays the guitar in a small band.",
    "Our neighbours have two cats.", "The bus was late this morning.",
    "We moved to a new apartment in March.", "The lecture was about medieval history.",
    "I need to renew my passport.", "The garden needs watering.",
    "There is a new shop around the corner.", "My laptop battery died.",
    "The conference will take place online.", "I like to draw landscapes.",
]


def word_hashing_backend(model_id, spec, folder):
    """A model-registry backend (``topics:word_hashing_backend``) for a browser test's server: the stand-in."""
    return WordHashing()
