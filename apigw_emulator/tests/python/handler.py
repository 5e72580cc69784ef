"""A WebSocket backend in Python, as people write them for API Gateway: it knows nothing of
this project. Every event is appended to $EVENTS_LOG (one JSON per line)."""

import json
import os
import urllib.request


def log(event):
    with open(os.environ["EVENTS_LOG"], "a") as f:
        f.write(json.dumps(event) + "\n")


def post(event, connection_id, data):
    """PostToConnection at the event's own domainName and stage (unsigned: the emulator
    does not check SigV4)."""
    ctx = event["requestContext"]
    url = "http://%s/%s/@connections/%s" % (ctx["domainName"], ctx["stage"], connection_id)
    request = urllib.request.Request(url, data=data.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code


def handler(event, context):
    log(event)
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        query = event.get("queryStringParameters") or {}
        if query.get("user") == "eve":
            return {"statusCode": 401}
        offered = (event.get("headers") or {}).get("Sec-WebSocket-Protocol", "")
        if "chat" in [p.strip() for p in offered.split(",")]:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat"}}
        return {"statusCode": 200}
    if route == "$disconnect":
        return {"statusCode": 200}
    if route == "shout":
        body = json.loads(event["body"])
        status = post(event, ctx["connectionId"], body["text"].upper())
        return {"statusCode": 200, "body": json.dumps({"posted": status})}
    if route == "crash":
        raise RuntimeError("the handler failed on purpose")
    if route == "reflect":
        # A careless function: its failure carries the whole event, headers and query
        # string included, and another answer is no proxy answer at all.
        if json.loads(event["body"]).get("how") == "raise":
            raise RuntimeError(json.dumps(event))
        return "not a proxy answer: " + json.dumps(event)
    return {"statusCode": 200, "body": json.dumps({"echo": event.get("body"), "route": route})}
