"""The yardstick for benchmarks/live_streams.py: plain sse-starlette, one broadcast to every open
stream, with nothing of Phonlap's (no database, no access checks, no broker).

    uvicorn --factory benchmarks.plain_sse_app:create_app
    GET /events (a stream: `ready`, then `plan` events), POST /fire/{id} (one `plan` event)
"""

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sse_starlette import EventSourceResponse, ServerSentEvent


def create_app() -> FastAPI:
    app = FastAPI()
    queues: set[asyncio.Queue] = set()

    async def stream() -> AsyncIterator[dict | ServerSentEvent]:
        queue: asyncio.Queue = asyncio.Queue(100)
        queues.add(queue)
        try:
            yield {"event": "ready", "data": "{}"}
            while True:
                yield await queue.get()
        finally:
            queues.discard(queue)

    @app.get("/events")
    async def events() -> EventSourceResponse:
        return EventSourceResponse(stream(), ping=15)

    @app.post("/fire/{event_id}")
    async def fire(event_id: int) -> dict[str, int]:
        event = ServerSentEvent(data=json.dumps({"id": event_id}), event="plan")
        for queue in list(queues):
            queue.put_nowait(event)
        return {"streams": len(queues)}

    return app


def main() -> None:
    print(__doc__)


if __name__ == "__main__":
    main()
