"""Extracts from the Telegram Bot API description (telegram-bot-api-spec's api.json, MIT, see
LICENSE) the methods our Bot API stand-in answers and every type their results can hold, with
each field's types and whether it is required. Run: python3 extract.py path/to/api.json"""
import json, sys

METHODS = ["getMe", "getUpdates", "sendMessage", "answerCallbackQuery",
           "editMessageReplyMarkup", "setWebhook", "deleteWebhook", "getWebhookInfo"]
api = json.load(open(sys.argv[1]))
types, todo = {}, []

def want(t):
    while t.startswith("Array of "):
        t = t[len("Array of "):]
    if t in api["types"] and t not in types:
        types[t] = None
        todo.append(t)

methods = {m: api["methods"][m]["returns"] for m in METHODS}
for r in methods.values():
    for t in r:
        want(t)
while todo:
    name = todo.pop()
    t = api["types"][name]
    out = {}
    if t.get("subtypes"):
        out["subtypes"] = t["subtypes"]
        for s in t["subtypes"]:
            want(s)
    out["fields"] = [{"name": f["name"], "types": f["types"], "required": f["required"]}
                     for f in t.get("fields", [])]
    for f in t.get("fields", []):
        for ft in f["types"]:
            want(ft)
    types[name] = out
json.dump({"version": api["version"], "methods": methods, "types": types}, sys.stdout,
          indent=1, sort_keys=True)
