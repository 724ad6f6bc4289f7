#!/bin/sh
# Stands in for a client SDK: presents a phone's ticket to the phone's access gateway, which would
# start the session. With cph-sim (CPH_ENDPOINT), its POST /_sim/connect plays the gateway; a real
# client would be handed PHONE_ADDRESS, PHONE_SESSION and PHONE_TICKET instead. The ticket lives in
# this process's environment only: nothing writes it down.
set -eu
python3 - <<'PY'
import json
import os
import sys
import urllib.error
import urllib.request

body = json.dumps({
    "phone_id": os.environ["PHONE_ID"],
    "session_id": os.environ["PHONE_SESSION"],
    "ticket": os.environ["PHONE_TICKET"],
}).encode()
request = urllib.request.Request(
    os.environ["CPH_ENDPOINT"].rstrip("/") + "/_sim/connect",
    data=body,
    headers={"Content-Type": "application/json"},
)
try:
    with urllib.request.urlopen(request, timeout=10) as answer:
        json.load(answer)
except urllib.error.HTTPError as e:
    sys.exit(f"the gateway refused phone {os.environ['PHONE_ID']}: {e.read().decode()}")
print(f"connected to phone {os.environ['PHONE_ID']} at {os.environ['PHONE_ADDRESS']} (ticket valid until {os.environ['EXPIRES_AT']})")
PY
