# syntax=docker/dockerfile:1
# Stride: build a wheel in one stage, run it as a non-root user in another.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/stride.db \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    MPLCONFIGDIR=/tmp/matplotlib
# uid 10001: a bind-mounted /data must be writable by it (docs/deploy.md).
RUN useradd --create-home --uid 10001 stride \
    && mkdir -p /data && chown stride:stride /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER stride
# A working directory the user can write: `stride demo` writes ./demo-out, and a `.env`
# mounted here is read.
WORKDIR /home/stride
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["stride"]
CMD ["run"]
