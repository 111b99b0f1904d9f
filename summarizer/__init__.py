"""Extractive summaries of Chinese news: key sentences, policy directives, keywords and facts.

Pure: text in, `Summary` out; no I/O besides loading the segmenter's dictionary, no clock.

    >>> from summarizer import summarize
    >>> summary = summarize(article_text, title="…", budget=200)

`read` gives what the ranker sees of an article (the sentences as shown, their features) and
`Weights` the linear model over them: the benchmarks learn the shipped `WEIGHTS` with both.
Words are cut by rjieba; `segmented_by("jieba")` cuts them with jieba itself inside a block.
"""

from summarizer._dateline import clean_sentence
from summarizer._features import FEATURES
from summarizer._rank import Weights
from summarizer._sentences import split_paragraphs, split_sentences
from summarizer._summarize import VERSION, Document, Reading, read, summarize
from summarizer._summary import Directive, Facts, RankedSentence, Summary
from summarizer._tokens import SEGMENTERS, prefix_words, segmented_by, segmenter
from summarizer._weights import WEIGHTS

__all__ = [
    "FEATURES",
    "SEGMENTERS",
    "VERSION",
    "WEIGHTS",
    "Directive",
    "Document",
    "Facts",
    "RankedSentence",
    "Reading",
    "Summary",
    "Weights",
    "clean_sentence",
    "prefix_words",
    "read",
    "segmented_by",
    "segmenter",
    "split_paragraphs",
    "split_sentences",
    "summarize",
]
