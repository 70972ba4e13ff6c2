"""The official `openai` Python client against a live `suit serve`.

Run by crates/server/tests/openai_client.rs, which starts the server and
sets SUIT_BASE_URL (ending in /v1), SUIT_MODEL (chat and completions),
SUIT_EMBEDDING_MODEL and SUIT_API_KEY. Every check
that fails raises, and the script exits non-zero.
"""

import json
import os

import openai
from openai import OpenAI

BASE_URL = os.environ["SUIT_BASE_URL"]
MODEL = os.environ["SUIT_MODEL"]
EMBEDDING_MODEL = os.environ["SUIT_EMBEDDING_MODEL"]
KEY = os.environ["SUIT_API_KEY"]

client = OpenAI(base_url=BASE_URL, api_key=KEY, max_retries=0, timeout=600)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def models():
    ids = [m.id for m in client.models.list()]
    check(MODEL in ids and EMBEDDING_MODEL in ids, f"{MODEL} and {EMBEDDING_MODEL} are listed: {ids}")
    print(f"ok models: {ids}")


def chat():
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You answer in one short sentence."},
            {"role": "user", "content": [{"type": "text", "text": "Say hello."}]},
        ],
        temperature=0,
        max_tokens=24,
    )
    choice = reply.choices[0]
    check(reply.object == "chat.completion", reply.object)
    check(choice.message.role == "assistant", choice.message.role)
    check(isinstance(choice.message.content, str) and choice.message.content.strip(),
          f"a non-empty reply: {choice.message.content!r}")
    check(choice.finish_reason in ("stop", "length"), choice.finish_reason)
    usage = reply.usage
    check(usage.prompt_tokens > 0 and usage.completion_tokens > 0, usage)
    check(usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage)
    print(f"ok chat: {choice.message.content!r} ({choice.finish_reason}, {usage.completion_tokens} tokens)")


def streaming_chat():
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 5."}],
        temperature=0,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    check(chunks[0].choices[0].delta.role == "assistant", "the role comes first")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(text.strip(), f"streamed text: {text!r}")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    check(finishes in (["stop"], ["length"]), f"one finish_reason at the end: {finishes}")
    check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0,
          f"a usage chunk last: {chunks[-1]}")
    print(f"ok streaming chat: {len(chunks)} chunks, {text!r}")


def two_choices():
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Name a colour."}],
        n=2,
        temperature=0.9,
        seed=3,
        max_tokens=12,
    )
    check(len(reply.choices) == 2, f"two choices: {reply.choices}")
    check(sorted(c.index for c in reply.choices) == [0, 1], "indexes 0 and 1")
    for c in reply.choices:
        check(c.message.content is not None and c.finish_reason in ("stop", "length"), c)
    print(f"ok n=2: {[c.message.content for c in reply.choices]}")


def json_schema_reply():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 24},
            "age": {"type": "integer"},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Invent a person: give a name and an age as JSON."}],
        temperature=0,
        max_tokens=96,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": schema, "strict": True}},
    )
    content = reply.choices[0].message.content
    value = json.loads(content)
    check(isinstance(value, dict) and set(value) == {"name", "age"}, f"the schema's keys: {value}")
    check(isinstance(value["name"], str) and isinstance(value["age"], int), value)
    print(f"ok json schema: {content}")


def fill_in_the_middle():
    reply = client.completions.create(
        model=MODEL,
        prompt="def add(a, b):\n    return ",
        suffix="\n\nprint(add(1, 2))\n",
        temperature=0,
        max_tokens=8,
    )
    check(reply.object == "text_completion", reply.object)
    check(isinstance(reply.choices[0].text, str), reply.choices[0])
    print(f"ok completion with suffix: {reply.choices[0].text!r}")


def embeddings():
    # The client asks for base64 and decodes it, unless told otherwise.
    reply = client.embeddings.create(model=EMBEDDING_MODEL, input=["hello world", "fn main() {}"])
    vectors = [d.embedding for d in reply.data]
    check(len(vectors) == 2, "two vectors")
    check(len(vectors[0]) > 0 and len(vectors[0]) == len(vectors[1]), "equal, non-zero sizes")
    check(all(isinstance(x, float) for x in vectors[0]), "floats")
    floats = client.embeddings.create(model=EMBEDDING_MODEL, input="hello world", encoding_format="float")
    check(max(abs(a - b) for a, b in zip(floats.data[0].embedding, vectors[0])) < 1e-4,
          "base64 and float encodings agree")
    print(f"ok embeddings: 2 x {len(vectors[0])}")


def bad_key():
    bad = OpenAI(base_url=BASE_URL, api_key="sk-not-the-key", max_retries=0)
    try:
        bad.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    except openai.AuthenticationError as error:
        check(error.status_code == 401, error.status_code)
        check(isinstance(error.body, dict) and error.body.get("code") == "invalid_api_key", error.body)
        print(f"ok bad key: {error.message}")
        return
    raise AssertionError("a bad key was accepted")


def unknown_model():
    try:
        client.chat.completions.create(model="gpt-nothing", messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError as error:
        check(isinstance(error.body, dict) and error.body.get("code") == "model_not_found", error.body)
        print("ok unknown model: 404")
        return
    raise AssertionError("an unknown model was accepted")


for test in (models, chat, streaming_chat, two_choices, json_schema_reply, fill_in_the_middle,
             embeddings, bad_key, unknown_model):
    test()
print("all openai client checks passed")
