"""The official `anthropic` Python client against a live `suit serve`.

Run by crates/server/tests/anthropic_client.rs, which starts the server and
sets SUIT_BASE_URL (the server's root: the client adds /v1/messages),
SUIT_MODEL and SUIT_API_KEY. Every check that fails raises, and the script
exits non-zero.
"""

import os

import anthropic
from anthropic import Anthropic

BASE_URL = os.environ["SUIT_BASE_URL"]
MODEL = os.environ["SUIT_MODEL"]
KEY = os.environ["SUIT_API_KEY"]

client = Anthropic(base_url=BASE_URL, api_key=KEY, max_retries=0, timeout=600)

# Greedy decoding, so the real model's replies repeat. The 2.x client takes
# no sampling parameters as arguments; `extra_body` sends the field.
GREEDY = {"temperature": 0}


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def check_usage(usage):
    prompt = usage.input_tokens + (usage.cache_read_input_tokens or 0)
    check(prompt > 0 and usage.output_tokens > 0, f"counted tokens: {usage}")


def create():
    reply = client.messages.create(
        model=MODEL,
        max_tokens=24,
        extra_body=GREEDY,
        system="You answer in one short sentence.",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}],
        metadata={"user_id": "suit-test"},
    )
    check(reply.type == "message" and reply.role == "assistant", reply)
    check(reply.id.startswith("msg_"), reply.id)
    check(reply.model == MODEL, reply.model)
    check(len(reply.content) == 1 and reply.content[0].type == "text", reply.content)
    check(reply.content[0].text.strip(), f"a non-empty reply: {reply.content[0].text!r}")
    check(reply.stop_reason in ("end_turn", "max_tokens"), reply.stop_reason)
    check(reply.stop_sequence is None, reply.stop_sequence)
    check_usage(reply.usage)
    print(f"ok create: {reply.content[0].text!r} ({reply.stop_reason}, {reply.usage.output_tokens} tokens)")


def system_prompt():
    # The system prompt, as text blocks, reaches the model and steers it.
    def ask(**system):
        reply = client.messages.create(
            model=MODEL,
            max_tokens=20,
            extra_body=GREEDY,
            messages=[{"role": "user", "content": "What is your name?"}],
            **system,
        )
        return reply.content[0].text

    named = ask(system=[{"type": "text", "text": "Your name is Zorblax. When asked your name, you answer with it.",
                         "cache_control": {"type": "ephemeral"}}])
    unnamed = ask()
    check("Zorblax" in named, f"the name the system prompt gives: {named!r}")
    check("Zorblax" not in unnamed, f"no such name without it: {unnamed!r}")
    print(f"ok system prompt: {named!r} (without it: {unnamed!r})")


def streaming():
    with client.messages.stream(
        model=MODEL,
        max_tokens=24,
        extra_body=GREEDY,
        messages=[{"role": "user", "content": "Count from 1 to 5."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(text.strip(), f"streamed text: {text!r}")
    check(final.content[0].text == text, f"the final message holds the streamed text: {final.content}")
    check(final.stop_reason in ("end_turn", "max_tokens"), final.stop_reason)
    check_usage(final.usage)
    print(f"ok messages.stream: {text!r} ({final.stop_reason}, {final.usage.output_tokens} tokens)")


def raw_events():
    events = list(client.messages.create(
        model=MODEL,
        max_tokens=12,
        extra_body=GREEDY,
        messages=[{"role": "user", "content": "Name a colour."}],
        stream=True,
    ))
    types = [e.type for e in events]
    # The client swallows `ping`; the rest come in Anthropic's order.
    deltas = types[2:-3]
    check(types[:2] == ["message_start", "content_block_start"], types)
    check(deltas and all(t == "content_block_delta" for t in deltas), types)
    check(types[-3:] == ["content_block_stop", "message_delta", "message_stop"], types)
    check(events[-2].delta.stop_reason in ("end_turn", "max_tokens"), events[-2])
    check(events[0].message.id.startswith("msg_"), events[0])
    check(events[-2].usage.output_tokens > 0, events[-2])
    print(f"ok stream=True: {len(events)} events")


def stop_sequence():
    reply = client.messages.create(
        model=MODEL,
        max_tokens=48,
        extra_body=GREEDY,
        messages=[{"role": "user", "content": "Count from 1 to 10, separated by commas."}],
        stop_sequences=["5"],
    )
    text = reply.content[0].text
    check(reply.stop_reason == "stop_sequence" and reply.stop_sequence == "5",
          f"stopped at 5: {reply.stop_reason} {reply.stop_sequence!r} {text!r}")
    check("4" in text and "5" not in text, f"the text before the stop sequence: {text!r}")
    print(f"ok stop sequence: {text!r}")


def bad_key():
    bad = Anthropic(base_url=BASE_URL, api_key="sk-not-the-key", max_retries=0)
    try:
        bad.messages.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    except anthropic.AuthenticationError as error:
        check(error.status_code == 401, error.status_code)
        check(isinstance(error.body, dict) and error.body.get("type") == "error", error.body)
        check(error.body["error"]["type"] == "authentication_error", error.body)
        print(f"ok bad key: {error.message}")
        return
    raise AssertionError("a bad key was accepted")


def unknown_model():
    try:
        client.messages.create(model="claude-nothing", max_tokens=8,
                               messages=[{"role": "user", "content": "hi"}])
    except anthropic.NotFoundError as error:
        check(error.body["error"]["type"] == "not_found_error", error.body)
        print("ok unknown model: 404")
        return
    raise AssertionError("an unknown model was accepted")


def image_block():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    try:
        client.messages.create(model=MODEL, max_tokens=8,
                               messages=[{"role": "user", "content": [image]}])
    except anthropic.BadRequestError as error:
        check(error.body["error"]["type"] == "invalid_request_error", error.body)
        check("image" in error.body["error"]["message"], error.body)
        print(f"ok image block: {error.body['error']['message']}")
        return
    raise AssertionError("an image block was accepted")


for test in (create, system_prompt, streaming, raw_events, stop_sequence, bad_key, unknown_model,
             image_block):
    test()
print("all anthropic client checks passed")
