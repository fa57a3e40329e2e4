"""Text processing: pure functions over strings that ingest and the questions share.

`clean` (page furniture out, paragraphs kept), `sentences` (sentence spans with offsets), `tokenize` (the BM25
terms of the index and of a question) and `dates` (time expressions and the days they name). Nothing here reads
a file, loads a model or touches the store.
"""
