"""Peer for bench/bench_telegram.py: the same raid report as a plain python-telegram-bot bot.

A PTB 22 `ConversationHandler` (7 questions, like the hotline's raid flow) with
`PicklePersistence`, served as a Starlette webhook: the secret header is checked and the
update is handed to `application.update_queue` (the pattern of PTB's
`examples/customwebhookbot/starlettebot.py`), answered 200 at once. Replies go out with
`AIORateLimiter` (PTB's own limiter: `--rate`/s overall, 30 by default) through `--api` (the
fake Bot API).

    python bench/peers/ptb_conversation_bot.py --port 8123 --api http://127.0.0.1:PORT \
        --token 123456:TEST-token --secret S --data /tmp/dir
"""

from __future__ import annotations

import argparse
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

SAFE, CONSENT, PLACE, TAKEN, CHILDREN, SAW = range(6)

Q_SAFE = "Si hay peligro ahora, llame al 911 primero.\n¿Está a salvo ahora?"
Q_CONSENT = (
    "Solo el consulado verá lo que escriba y su número, para ayudarle. Se borra 90 días tras "
    "cerrar su caso, o antes con BORRAR. ¿Acepta?"
)
Q_PLACE = "¿Dónde está pasando? Escriba el lugar y la ciudad o el ZIP. Ej: mi trabajo, 77036"
Q_TAKEN = "¿Se llevaron a alguien? Escriba cuántas personas, o 0 si a nadie."
Q_CHILDREN = "¿Hay niños solos o afectados?"
Q_SAW = "Cuente en pocas palabras qué vio. Si es seguro, mande foto o video. Si no, escriba NO."
DONE = (
    "Sus derechos: no abra sin orden de un juez, puede guardar silencio y no firme nada. "
    "Más: DERECHOS.\nListo: su caso es {ref}. Le escribiremos aquí."
)
RAID = re.compile(r"redada|migra|ice\b", re.IGNORECASE)
PLACE_GIVEN = re.compile(r"\b\d{5}\b|houston|dallas|chicago|los angeles", re.IGNORECASE)
YES = re.compile(r"^\s*(s[ií]|1|yes)\b", re.IGNORECASE)
Ctx = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Ctx) -> int:
    text = update.effective_message.text or ""
    data = context.user_data
    data.clear()
    data["ref"] = "HL-" + secrets.token_hex(3).upper()
    data["first"] = text
    if PLACE_GIVEN.search(text):
        data["place"] = text
    await update.effective_message.reply_text(Q_SAFE)
    return SAFE


async def safe(update: Update, context: Ctx) -> int:
    context.user_data["safe"] = update.effective_message.text
    await update.effective_message.reply_text(Q_CONSENT)
    return CONSENT


async def consent(update: Update, context: Ctx) -> int:
    if not YES.match(update.effective_message.text or ""):
        await update.effective_message.reply_text("Entendido. No guardamos nada. Llame al 911.")
        return ConversationHandler.END
    if "place" not in context.user_data:
        await update.effective_message.reply_text(Q_PLACE)
        return PLACE
    await update.effective_message.reply_text(Q_TAKEN)
    return TAKEN


async def place(update: Update, context: Ctx) -> int:
    context.user_data["place"] = update.effective_message.text
    await update.effective_message.reply_text(Q_TAKEN)
    return TAKEN


async def taken(update: Update, context: Ctx) -> int:
    text = (update.effective_message.text or "").strip()
    if not text.isdigit() or int(text) > 500:
        await update.effective_message.reply_text("Escriba solo un número, por ejemplo: 2")
        return TAKEN
    context.user_data["taken"] = int(text)
    await update.effective_message.reply_text(Q_CHILDREN)
    return CHILDREN


async def children(update: Update, context: Ctx) -> int:
    context.user_data["children"] = update.effective_message.text
    await update.effective_message.reply_text(Q_SAW)
    return SAW


async def saw(update: Update, context: Ctx) -> int:
    context.user_data["saw"] = update.effective_message.text
    await update.effective_message.reply_text(DONE.format(ref=context.user_data["ref"]))
    return ConversationHandler.END


async def cancel(update: Update, context: Ctx) -> int:
    await update.effective_message.reply_text("Cancelado.")
    return ConversationHandler.END


def build(api: str, token: str, data_dir: Path, rate: float = 30) -> Application:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot{{token}}")
        .updater(None)
        .persistence(PicklePersistence(filepath=data_dir / "ptb_peer.pickle"))
        .rate_limiter(AIORateLimiter(overall_max_rate=rate))
        .build()
    )
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(
        ConversationHandler(
            entry_points=[MessageHandler(text & filters.Regex(RAID), start)],
            states={
                SAFE: [MessageHandler(text, safe)],
                CONSENT: [MessageHandler(text, consent)],
                PLACE: [MessageHandler(text, place)],
                TAKEN: [MessageHandler(text, taken)],
                CHILDREN: [MessageHandler(text, children)],
                SAW: [MessageHandler(text, saw)],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            name="raid",
            persistent=True,
        )
    )
    return application


def web(application: Application, secret: str) -> Starlette:  # type: ignore[type-arg]
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with application:
            await application.start()
            yield
            await application.stop()

    async def webhook(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return Response(status_code=200)

    async def healthz(_: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/webhooks/telegram", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api", required=True, help="Bot API base URL (the fake)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=30, help="messages/s overall")
    args = parser.parse_args()
    app = web(build(args.api, args.token, args.data, args.rate), args.secret)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
