"""The ranker's weights, learned by bench/ranker.py (regenerate with it; never edit by hand).

Learned on: labels-dev.jsonl.
"""

from summarizer._rank import Weights

__all__ = ["WEIGHTS"]

WEIGHTS = Weights(
    intercept=-3.3345,
    coefficients={
        "first": 0.9016,
        "second": 1.3616,
        "position": 2.0311,
        "paragraph_start": 0.7283,
        "first_paragraph": 0.8262,
        "late": 0.4162,
        "graph": 0.4082,
        "title": 1.4069,
        "decision": 0.6957,
        "agenda": 1.2638,
        "chair": 0.7731,
        "roll_call": -1.0727,
        "event": 0.4677,
        "frame": 0.2484,
        "modal": -0.3092,
        "directive": 0.1997,
        "first_directive": 0.9158,
        "first_frame": -0.2877,
        "first_decision": 0.593,
        "directive_rank": 1.4959,
        "frame_statement": -0.5592,
        "speech": 0.8387,
        "significance": -0.7478,
        "date": 1.2067,
        "numbers": 0.8635,
        "quote": -0.1497,
        "short": -0.1149,
        "long": -0.8322,
        "meeting_report": -1.0685,
        "meeting_x_directive": 0.0235,
        "meeting_x_decision": 0.2075,
    },
    mmr=0.7,
)
