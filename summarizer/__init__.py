"""Extractive summaries of Chinese news: key sentences, policy directives, keywords and facts.

Pure: text in, `Summary` out; no I/O besides loading jieba's dictionary, no clock.

    >>> from summarizer import summarize
    >>> summary = summarize(article_text, title="…", budget=200)
"""

from summarizer._sentences import split_sentences
from summarizer._summarize import VERSION, Document, summarize
from summarizer._summary import Directive, Facts, RankedSentence, Summary

__all__ = [
    "VERSION",
    "Directive",
    "Document",
    "Facts",
    "RankedSentence",
    "Summary",
    "split_sentences",
    "summarize",
]
