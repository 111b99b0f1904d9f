# make run: set up .venv and try the whole bot in this terminal (`newsbot chat`): the bundled
#           sample source is read into SQLite (newsbot.db) and the real bot answers you through a
#           local Bot API emulator. No token, no network. Type /quit (or Ctrl-D) to leave.
# make test: set up .venv (if needed) and run ruff and the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/newsbot chat

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check summarizer ingest storage bot tests bench

test: lint
	$(BIN)/pytest -n 2

$(BIN)/.bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

# The corpora are not in the repository: CORPUS points at a checkout of the shared material.
CORPUS ?= ../shared/corpus

bench: $(BIN)/.bench
	$(BIN)/python bench/summarize.py $(CORPUS)/summaries/nlpcc2017-dev.jsonl $(CORPUS)/summaries/clts-samples.jsonl
	$(BIN)/python bench/directives.py $(CORPUS)/govnews/labels-dev.jsonl $(CORPUS)/govnews/articles.jsonl \
		--also $(CORPUS)/govnews/labels-dev2.jsonl \
		--seed-gold $(CORPUS)/seed/jingzhou-2023-07-13.gold.json --seed-text $(CORPUS)/seed/jingzhou-2023-07-13.txt
	$(BIN)/python bench/ranker.py $(CORPUS)/govnews/articles.jsonl --labels $(CORPUS)/govnews/labels-dev.jsonl \
		--labels $(CORPUS)/govnews/labels-dev2.jsonl --nlpcc $(CORPUS)/summaries/nlpcc2017-dev.jsonl
	$(BIN)/python bench/shown.py $(CORPUS)/govnews/articles.jsonl
	$(BIN)/python bench/verdict.py $(CORPUS)/pages $(CORPUS)/govnews/articles.jsonl ingest/samples
	$(BIN)/python bench/extract.py $(CORPUS)/pages

clean:
	rm -rf $(VENV) build *.egg-info
