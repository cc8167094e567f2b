#!/usr/bin/env python3
"""A minimal Singer tap for tests: `cases` records after the state's bookmark, an `audit` stream beside them."""
import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
parser.add_argument("--state")
parser.add_argument("--catalog")
args = parser.parse_args()
config = json.load(open(args.config))
state = json.load(open(args.state)) if args.state else {}
start = state.get("bookmarks", {}).get("cases", {}).get("last_id", 0)
total = int(config["total"])


def emit(message):
    sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")


print("fake tap starting (a log line on stderr)", file=sys.stderr)
emit({"type": "SCHEMA", "stream": "cases", "key_properties": ["id"],
      "schema": {"properties": {"id": {"type": "integer"}, "district": {"type": "string"}}}})
for index in range(start + 1, total + 1):
    emit({"type": "RECORD", "stream": "cases",
          "record": {"id": index, "district": config.get("district", "마포구"), "tags": ["a", "b"],
                     "place": {"lat": 37.5, "lon": 127.0}}})
    if config.get("sleep_ms"):
        sys.stdout.flush()
        time.sleep(int(config["sleep_ms"]) / 1000)
    if config.get("with_audit") and index % 100 == 0:
        emit({"type": "RECORD", "stream": "audit", "record": {"checked": index}})
    if index % 500 == 0:
        emit({"type": "STATE", "value": {"bookmarks": {"cases": {"last_id": index}}}})
    if config.get("fail_after") == index:
        print("simulated failure", file=sys.stderr)
        sys.exit(3)
emit({"type": "STATE", "value": {"bookmarks": {"cases": {"last_id": total}}}})
