"""Benchmark: raid reports end to end over Telegram, the hotline beside a plain PTB peer.

N simulated people (default 50) write at the same moment. Each posts a signed Telegram
update to the bot's webhook, waits for the bot's reply to arrive at a fake Bot API
(tests/fakes/telegram_api.py, served by this process on 127.0.0.1), thinks `--think`
seconds and answers the question it was asked, until the report is done. A step's latency
is from just before the POST to the webhook until the fake receives the first sendMessage
for that chat (the "last" figure: until the last message of that turn, read before the
next answer).

Targets, one after the other against the same fake:
  hotline  `hotline serve` as a subprocess (SQLite under a temp dir, or `--postgres` with
           `--workers N`; webhook mode, TELEGRAM_API_BASE_URL = the fake) — the real service
           with its inbox writer and outbox sender, pacing HOTLINE_TELEGRAM_RATE=`--rate`
  ptb      bench/peers/ptb_conversation_bot.py: a python-telegram-bot ConversationHandler
           bot with PicklePersistence, webhook updates into application.update_queue, its
           AIORateLimiter at `--rate`
  bare     bench/peers/bare_endpoint.py: a Starlette webhook that sends the next question
           from a dict in memory before answering 200 (no database, no pacing): the floor

    .venv/bin/python bench/bench_telegram.py --people 50 --think 5
    # throughput with pacing set high (the provider's per-chat pace of 1/s still holds,
    # so think at least 1 s):
    .venv/bin/python bench/bench_telegram.py --people 400 --think 1 --rate 100000
    # the hotline from a snapshot of HEAD (while the working tree is being edited):
    git archive HEAD | tar -x -C /tmp/hotline_head
    .venv/bin/python bench/bench_telegram.py --people 50 --think 5 --source /tmp/hotline_head

Each target first runs one unmeasured report (`--warmup 0` to measure the cold start too).
"""

# ruff: noqa: ASYNC110, ASYNC220, ASYNC230, ASYNC240  (set-up and tear-down, not timed)
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.responses import JSONResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway import DEFAULT_POSTGRES, throwaway  # noqa: E402
from tests.fakes.server import free_port  # noqa: E402
from tests.fakes.telegram_api import FakeBotAPI  # noqa: E402

SECRET = "bench_webhook-secret_0123456789"
PUBLIC_URL = "https://hotline.example.org"
FIRST = [
    "hay una redada ahorita en mi trabajo en Houston",
    "hay una redada ahorita en mi trabajo en Houston, ayuda",
    "Hay una redada ahorita en mi trabajo en Houston 77036",
    "hay una redada ahorita en mi trabajo",
    "la migra está haciendo una redada ahorita en mi trabajo en Houston",
]
MAX_STEPS = 12
TARGETS = ("hotline", "ptb", "bare")
_update_ids = itertools.count(1)


class TimedFake(FakeBotAPI):
    """The tests' fake Bot API, also handing each accepted sendMessage to the chat's waiter."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inboxes: dict[int, asyncio.Queue[tuple[float, str]]] = {}

    def _send(self, params: dict[str, Any]) -> JSONResponse:
        at = time.perf_counter()
        response = super()._send(params)
        inbox = self.inboxes.get(int(params["chat_id"]))
        if response.status_code == 200 and inbox is not None:
            inbox.put_nowait((at, str(params["text"])))
        return response


@dataclass
class Run:
    first: list[float] = field(default_factory=list)  # per step: POST → first reply
    last: list[float] = field(default_factory=list)  # per step: POST → last reply of the turn
    ack: list[float] = field(default_factory=list)  # per step: POST → webhook's 200
    by_step: dict[int, list[float]] = field(default_factory=dict)
    messages: int = 0
    finished: int = 0
    timeouts: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


def tg_message(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A private-chat text `message` update as the Bot API sends it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "text": text,
        },
    }


def answer(turn: str) -> str | None:
    """What the person says to the question in `turn` (None: the report is done)."""
    t = turn.lower()
    if "listo" in t:
        return None
    if "a salvo" in t or "acepta" in t:
        return "si"
    if "dónde" in t or "zip" in t:
        return "77036"
    if "cuántas personas" in t or "solo un número" in t:
        return "1"
    if "niños" in t:
        return "2"
    if "qué vio" in t:
        return "tres camionetas"
    return "no"


async def person(
    client: httpx.AsyncClient,
    url: str,
    chat_id: int,
    text: str,
    think: float,
    inbox: asyncio.Queue[tuple[float, str]],
    run: Run,
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for step in range(1, MAX_STEPS + 1):
        start = time.perf_counter()
        try:
            response = await client.post(
                url, json=tg_message(next(_update_ids), chat_id, text), headers=headers
            )
        except httpx.HTTPError as exc:
            run.errors.append(f"chat {chat_id} step {step}: webhook {type(exc).__name__}")
            return
        run.ack.append(time.perf_counter() - start)
        if response.status_code != 200:
            run.errors.append(f"chat {chat_id} step {step}: webhook {response.status_code}")
            return
        try:
            at, reply = await asyncio.wait_for(inbox.get(), timeout=30)
        except TimeoutError:
            run.timeouts += 1
            run.errors.append(f"chat {chat_id} step {step}: no reply in 30 s")
            return
        run.first.append(at - start)
        run.by_step.setdefault(step, []).append(at - start)
        await asyncio.sleep(think)  # about `think` s after receiving the reply
        texts, last = [reply], at
        while not inbox.empty():
            last, more = inbox.get_nowait()
            texts.append(more)
        run.last.append(last - start)
        run.messages += len(texts)
        following = answer("\n".join(texts))
        if following is None:
            run.finished += 1
            return
        text = following
    run.errors.append(f"chat {chat_id}: not done after {MAX_STEPS} steps")


async def load(fake: TimedFake, url: str, people: int, think: float, chat_base: int) -> Run:
    run = Run()
    chats = [chat_base + i for i in range(people)]
    for chat in chats:
        fake.inboxes[chat] = asyncio.Queue()
    # Each person their own client and connection, as each Telegram user's updates come
    # on their own: one pool of `people` connections spent most of this process's time in
    # httpcore scanning the pool on every request (the harness measured itself).
    tls = ssl.create_default_context()  # unused (plain http), but each client would make one
    clients = [httpx.AsyncClient(timeout=30, verify=tls) for _ in chats]
    try:
        start = time.perf_counter()
        await asyncio.gather(
            *(
                person(client, url, chat, FIRST[i % len(FIRST)], think, fake.inboxes[chat], run)
                for i, (chat, client) in enumerate(zip(chats, clients, strict=True))
            )
        )
        run.elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return run


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOTLINE_", "TELEGRAM_", "TWILIO_"))
    }


async def wait_ready(url: str, proc: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {within} s")


async def run_target(
    name: str, fake: TimedFake, api: str, args: argparse.Namespace, chat_base: int
) -> Run:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env()
        log = open(Path(tmp) / "server.log", "wb")
        if name == "hotline":
            env.update(
                HOTLINE_DATA_DIR=tmp,
                HOTLINE_SECRET_KEY="bench-secret-key-0123456789-abcdefghijkl",
                HOTLINE_PUBLIC_URL=PUBLIC_URL,
                HOTLINE_LOG_LEVEL="WARNING",
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_WEBHOOK_SECRET=SECRET,
                TELEGRAM_API_BASE_URL=api,
            )
            env["HOTLINE_TELEGRAM_RATE"] = f"{args.rate:g}"
            if args.database:
                env["HOTLINE_DATABASE_URL"] = args.database
            if args.source:  # e.g. a `git archive HEAD` snapshot while the tree is in flux
                env["PYTHONPATH"] = str(Path(args.source).resolve())
            cmd = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
            cmd += ["--workers", str(args.workers)]
        elif name == "bare":
            cmd = [
                sys.executable,
                str(ROOT / "bench/peers/bare_endpoint.py"),
                "--port",
                str(port),
                "--api",
                api,
                "--token",
                fake.token,
                "--secret",
                SECRET,
            ]
        else:
            cmd = [
                sys.executable,
                str(ROOT / "bench/peers/ptb_conversation_bot.py"),
                "--port",
                str(port),
                "--api",
                api,
                "--token",
                fake.token,
                "--secret",
                SECRET,
                "--data",
                tmp,
                "--rate",
                f"{args.rate:g}",
            ]
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            await wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
            if name == "hotline":  # the bot is up once it has registered its webhook
                deadline = time.monotonic() + 30
                while not fake.method_calls("setWebhook") and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(2)  # let start-up work (preparing the engine) finish
            url = f"http://127.0.0.1:{port}/webhooks/telegram"
            for i in range(args.warmup):  # first use loads place data etc.: not measured
                await load(fake, url, 1, 0.2, chat_base + 90_000 + i)
            return await load(fake, url, args.people, args.think, chat_base)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            tail = (Path(tmp) / "server.log").read_text(errors="replace").strip()
            (Path(tempfile.gettempdir()) / f"bench_telegram_{name}.log").write_text(tail)
            if tail:
                print(f"--- {name} log (last lines) ---\n" + "\n".join(tail.splitlines()[-15:]))


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, in ms."""
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1] * 1000


def report(name: str, run: Run, people: int) -> str:
    if not run.first:
        return f"{name}: no replies ({run.errors[:3]})"
    f, la = run.first, run.last
    line = (
        f"{name}: {len(f)} steps, {run.finished}/{people} reports done in {run.elapsed:.1f} s; "
        f"{len(f) / run.elapsed:.1f} steps/s, {run.messages / run.elapsed:.1f} sendMessage/s | "
        f"first reply p50 {pct(f, 50):.0f} ms, p95 {pct(f, 95):.0f}, p99 {pct(f, 99):.0f}, "
        f"max {max(f) * 1000:.0f} | last reply of turn p50 {pct(la, 50):.0f}, "
        f"p99 {pct(la, 99):.0f}, max {max(la) * 1000:.0f} | webhook 200 p50 "
        f"{pct(run.ack, 50):.0f} ms, p99 {pct(run.ack, 99):.0f} | "
        f"{run.messages} messages, {run.timeouts} timeouts, "
        f"{sum(1 for x in f if x >= 1.0)} steps ≥ 1 s"
    )
    steps = "; ".join(
        f"#{s} n={len(v)} p50 {pct(v, 50):.0f} p99 {pct(v, 99):.0f} max {max(v) * 1000:.0f}"
        for s, v in sorted(run.by_step.items())
    )
    return f"{line}\n  by step (first reply, ms): {steps}" + (
        f"\n  errors: {run.errors[:5]}" if run.errors else ""
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--think", type=float, default=5.0, help="seconds before answering")
    parser.add_argument(
        "--source",
        default=None,
        help="run the hotline's code from this directory (default: this tree)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="unmeasured reports run first, one after the other (0: cold start)",
    )
    parser.add_argument("--only", choices=TARGETS, action="append")
    parser.add_argument(
        "--rate", type=float, default=30, help="overall sends/s for the hotline and ptb"
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        default=None,
        help="run the hotline on a throwaway database on this PostgreSQL server",
    )
    parser.add_argument("--workers", type=int, default=1, help="hotline processes (PostgreSQL)")
    args = parser.parse_args()
    args.database = None
    fake = TimedFake()
    fake_port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            fake.app(),
            host="127.0.0.1",
            port=fake_port,
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    api = f"http://127.0.0.1:{fake_port}"
    lines = []
    try:
        for base, name in zip((100_000, 200_000, 300_000), TARGETS, strict=True):
            if args.only is None or name in args.only:
                if name == "hotline" and args.postgres:
                    with throwaway(args.postgres) as (url, _):
                        args.database = url
                        run = await run_target(name, fake, api, args, base)
                else:
                    run = await run_target(name, fake, api, args, base)
                lines.append(report(name, run, args.people))
                print(lines[-1], flush=True)
    finally:
        server.should_exit = True
        await serving
    print(
        f"\n{args.people} people, think {args.think:g} s, rate {args.rate:g}/s, hotline on "
        f"{f'PostgreSQL, {args.workers} worker(s)' if args.postgres else 'SQLite'}, "
        f"warm-up {args.warmup}, hotline "
        f"code {args.source or ROOT}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    asyncio.run(main())
