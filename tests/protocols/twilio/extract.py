"""Extracts what the Twilio stand-in checks from Twilio's OpenAPI description.

    python3 tests/protocols/twilio/extract.py ../shared/protocols/twilio/twilio_api_v2010.json

writes list_message.json beside this file: the ListMessage operation (GET
/2010-04-01/Accounts/{AccountSid}/Messages.json) with its query parameters and its 200 answer's
schema, descriptions and examples dropped and $refs resolved. create_message.json was made the
same way from the post operation.
"""
import json
import os
import sys

SKIP = {"description", "examples", "example", "x-twilio"}


def resolve(node, doc, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                return {}
            target = doc
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            return resolve(target, doc, seen + (ref,))
        return {k: resolve(v, doc, seen) for k, v in node.items() if k not in SKIP}
    if isinstance(node, list):
        return [resolve(v, doc, seen) for v in node]
    return node


# (path, operation, its name, the file written)
OPERATIONS = [
    ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "get", "ListMessage", "list_message.json"),
    # What `matters doctor` reads: the account, and the sending number's webhook.
    ("/2010-04-01/Accounts/{Sid}.json", "get", "FetchAccount", "fetch_account.json"),
    (
        "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        "get",
        "ListIncomingPhoneNumber",
        "list_incoming_phone_number.json",
    ),
]


def main(path):
    doc = json.load(open(path))
    here = os.path.dirname(os.path.abspath(__file__))
    for route, method, name, file in OPERATIONS:
        op = doc["paths"][route][method]
        out = {
            "source": "twilio_api_v2010.json (twilio-oai, Apache-2.0), path "
            f"{route}, operation {method} ({name}); "
            "descriptions dropped, $refs resolved",
            "servers": [{"url": "https://api.twilio.com"}],
            "security": op.get("security", []),
            "parameters": resolve(op.get("parameters", []), doc),
            "response": resolve(op["responses"]["200"]["content"]["application/json"]["schema"], doc),
        }
        with open(os.path.join(here, file), "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
