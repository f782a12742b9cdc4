"""An EventReactor pyfunc handler, run as a script: the event is the last argument."""
import json
import sys

event = json.loads(sys.argv[-1])
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"seen": event["event_type"], "data": event.get("data")}, out)
print("handled", event["event_type"])
