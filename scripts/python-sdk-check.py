"""Checks the official Huawei Cloud Python SDK for CPH against a running cph-sim.

    HW_ACCESS_KEY=.. HW_SECRET_KEY=.. HW_PROJECT_ID=.. python python-sdk-check.py http://HOST:PORT

scripts/check-python-sdk.sh runs it with the SDK installed (huaweicloudsdkcph==3.1.219). Through the SDK's own
client, which signs every call with AK/SK: lists 3 phones (ListCloudPhones, limit=3); asks for their connection
information (BatchShowPhoneConnectInfos, client type H5_PC) and checks that every phone is in `connect_infos` with
an access IP, a port and a 64-character ticket; asks again and checks that every ticket is new; asks for 11 phones
and checks the call fails with HTTP 400 (the API takes at most 10). Then presents each ticket of the second call to
the simulator's stand-in for the phone's access gateway (POST /_sim/connect, with urllib) and checks it is
accepted, and that a ticket presented for another phone is refused. Prints a short summary (never a ticket or a
session id) and exits 1 with the failed check's message on any failure.
"""

import json
import os
import sys
import urllib.error
import urllib.request
from importlib.metadata import version

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcph.v1 import (
    BatchShowPhoneConnectInfosRequest,
    ConnectionRequestBody,
    CphClient,
    ListCloudPhonesRequest,
)

PHONES = 3
CONNECTION_MAX_PHONES = 10
TICKET_CHARS = 64
CLIENT_TYPE = "H5_PC"


class CheckFailed(Exception):
    """A check that did not hold; its message says which and what was seen instead."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def env(name):
    value = os.environ.get(name, "")
    check(value, "%s is not set (the simulator's credentials: see crates/cph-sim/README.md)" % name)
    return value


def sdk_call(what, call):
    """Runs one SDK call that must succeed; any SDK exception is a failed check naming the call."""
    try:
        return call()
    except exceptions.SdkException as error:
        raise CheckFailed("%s failed: %s" % (what, error)) from error


def connect_infos(client, phone_ids, what):
    """BatchShowPhoneConnectInfos for `phone_ids`: each phone's access info, checked, by phone id."""
    body = ConnectionRequestBody(phone_ids=phone_ids, client_type=CLIENT_TYPE)
    answer = sdk_call(what, lambda: client.batch_show_phone_connect_infos(
        BatchShowPhoneConnectInfosRequest(body=body)))
    errors = [(e.phone_id, e.error_code, e.error_msg) for e in (answer.errors or [])]
    check(not errors, "%s: phones refused: %s" % (what, errors))
    infos = {info.phone_id: info.access_info for info in (answer.connect_infos or [])}
    for phone_id in phone_ids:
        access = infos.get(phone_id)
        check(access is not None, "%s: phone %s is not in connect_infos" % (what, phone_id))
        check(access.access_ip, "%s: phone %s has no access_ip" % (what, phone_id))
        check(isinstance(access.access_port, int) and access.access_port > 0,
              "%s: phone %s has no access_port (got %r)" % (what, phone_id, access.access_port))
        check(access.session_id, "%s: phone %s has no session_id" % (what, phone_id))
        ticket = access.ticket or ""
        check(len(ticket) == TICKET_CHARS,
              "%s: phone %s has a ticket of %d characters, not %d"
              % (what, phone_id, len(ticket), TICKET_CHARS))
    return infos


def present(endpoint, phone_id, session_id, ticket):
    """POST /_sim/connect: the HTTP status and the decoded answer."""
    body = json.dumps({"phone_id": phone_id, "session_id": session_id, "ticket": ticket}).encode()
    request = urllib.request.Request(endpoint + "/_sim/connect", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def run(endpoint):
    credentials = BasicCredentials(env("HW_ACCESS_KEY"), env("HW_SECRET_KEY"), env("HW_PROJECT_ID"))
    client = CphClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()
    print("python-sdk-check: huaweicloudsdkcph %s (huaweicloudsdkcore %s) against %s"
          % (version("huaweicloudsdkcph"), version("huaweicloudsdkcore"), endpoint))

    listed = sdk_call("ListCloudPhones(limit=%d)" % PHONES,
                      lambda: client.list_cloud_phones(ListCloudPhonesRequest(limit=PHONES)))
    ids = [phone.phone_id for phone in (listed.phones or [])]
    check(len(ids) == PHONES and all(ids),
          "ListCloudPhones(limit=%d) listed %d phones: %s" % (PHONES, len(ids), ids))
    print("  ListCloudPhones(limit=%d): %d phones of %s" % (PHONES, len(ids), listed.count))

    first = connect_infos(client, ids, "BatchShowPhoneConnectInfos")
    second = connect_infos(client, ids, "BatchShowPhoneConnectInfos (again)")
    first_tickets = {access.ticket for access in first.values()}
    second_tickets = {access.ticket for access in second.values()}
    check(len(first_tickets) == PHONES and len(second_tickets) == PHONES,
          "BatchShowPhoneConnectInfos gave two phones the same ticket")
    check(not first_tickets & second_tickets,
          "BatchShowPhoneConnectInfos gave %d of the same tickets on the second call"
          % len(first_tickets & second_tickets))
    print("  BatchShowPhoneConnectInfos(%s): %d phones, each with an access ip, a port and a %d-character"
          " ticket; a second call gave %d new tickets" % (CLIENT_TYPE, PHONES, TICKET_CHARS, PHONES))

    eleven = ids + ["%032x" % n for n in range(1, CONNECTION_MAX_PHONES + 2 - PHONES)]
    check(len(eleven) == CONNECTION_MAX_PHONES + 1, "built %d phone ids, not 11" % len(eleven))
    body = ConnectionRequestBody(phone_ids=eleven, client_type=CLIENT_TYPE)
    try:
        client.batch_show_phone_connect_infos(BatchShowPhoneConnectInfosRequest(body=body))
    except exceptions.ClientRequestException as error:
        check(error.status_code == 400,
              "BatchShowPhoneConnectInfos with 11 phones failed with HTTP %s, not 400: %s"
              % (error.status_code, error))
        refused = "HTTP %s %s (%s)" % (error.status_code, error.error_code, error.error_msg)
    except exceptions.SdkException as error:
        raise CheckFailed("BatchShowPhoneConnectInfos with 11 phones failed, but not with HTTP 400: %s"
                          % error) from error
    else:
        raise CheckFailed("BatchShowPhoneConnectInfos with 11 phones succeeded; the API takes at most %d"
                          % CONNECTION_MAX_PHONES)
    print("  BatchShowPhoneConnectInfos with 11 phones: refused, %s" % refused)

    for phone_id, access in second.items():
        status, answer = present(endpoint, phone_id, access.session_id, access.ticket)
        check(status == 200 and answer.get("connected") is True,
              "POST /_sim/connect refused the ticket of phone %s: HTTP %s %s" % (phone_id, status, answer))
    other_phone = ids[1]
    stolen = second[ids[0]]
    status, answer = present(endpoint, other_phone, stolen.session_id, stolen.ticket)
    check(status == 403 and answer.get("connected") is False,
          "POST /_sim/connect accepted phone %s's ticket for phone %s: HTTP %s %s"
          % (ids[0], other_phone, status, answer))
    print("  POST /_sim/connect: %d tickets accepted; a ticket presented for another phone refused"
          " (HTTP 403 %s)" % (PHONES, answer.get("error")))


def main(argv):
    if len(argv) != 2:
        print("usage: HW_ACCESS_KEY=.. HW_SECRET_KEY=.. HW_PROJECT_ID=.. %s http://HOST:PORT" % argv[0],
              file=sys.stderr)
        return 2
    try:
        run(argv[1].rstrip("/"))
    except CheckFailed as failure:
        print("python-sdk-check: FAILED: %s" % failure, file=sys.stderr)
        return 1
    print("python-sdk-check: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
