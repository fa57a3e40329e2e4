"""Ingest and index: files → cleaned articles → sentences and chunks → vectors, BM25 and metadata on disk."""

from index.threads import configure_threads

configure_threads()  # before torch or FAISS is imported by any module of the package
