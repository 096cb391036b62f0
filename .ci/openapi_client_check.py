"""Drives a running notifier through a client generated from its own /api/schema.

.ci/openapi-client.sh generates the client (package `notifier_client`, on PYTHONPATH) and
starts a fresh server; this script replays the README's two examples, a 400, a 404 and a
list page, and checks the parsed models: their types and values, not only status codes.
A client that parses a response into the wrong model, or into nothing, fails here.

Environment: NOTIFIER_URL (base URL), NOTIFIER_TOKEN (an admin token).
"""

import datetime
import os
import sys
from http import HTTPStatus

from notifier_client import AuthenticatedClient
from notifier_client.api.notifiers import create, list_, partial_update, retrieve
from notifier_client.models import Detail, FieldErrorsBody, Notifier, NotifierPage, NotifierWrite

COLLECTION = "/api/notifications/notifiers/email"
REQUIRED = ["This field is required."]

# The README's first example, field for field.
SEED = {
    "name": "hamgam_mail",
    "host": "mail.hamgam.online",
    "port": 887,
    "username": "info",
    "password": "somepassword",
    "from_email": "info@hamgam.online",
    "use_tls": True,
    "use_ssl": True,
    "fail_silently": False,
}


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual, expected, what):
    expect(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def expect_type(value, kind, what):
    # bool is an int in Python: an id or a port must not be one.
    bool_as_int = kind is int and isinstance(value, bool)
    expect(
        isinstance(value, kind) and not bool_as_int,
        f"{what}: expected {kind.__name__}, got {value!r}",
    )


def expect_answer(response, status, model, what):
    expect_equal(response.status_code, status, f"{what}: status")
    expect_type(response.parsed, model, f"{what}: parsed body")
    return response.parsed


def expect_seed(notifier, name, what):
    expect_type(notifier.id, int, f"{what}: id")
    expect_type(notifier.port, int, f"{what}: port")
    for flag in ("use_tls", "use_ssl", "fail_silently"):
        expect_type(getattr(notifier, flag), bool, f"{what}: {flag}")
    for stamp in ("created_at", "updated_at"):
        value = getattr(notifier, stamp)
        expect_type(value, datetime.datetime, f"{what}: {stamp}")
        expect(value.tzinfo is not None, f"{what}: {stamp} has no time zone")
    shown = {**SEED, "name": name, "password": "********"}
    for field, value in shown.items():
        expect_equal(getattr(notifier, field), value, f"{what}: {field}")
    expect_equal(notifier.additional_properties, {}, f"{what}: fields the schema does not describe")


def created_seed(client):
    response = create.sync_detailed(client=client, body=NotifierWrite(**SEED))
    notifier = expect_answer(response, HTTPStatus.CREATED, Notifier, "create")
    expect_seed(notifier, "hamgam_mail", "create")
    expect_equal(notifier.created_at, notifier.updated_at, "create: updated_at")
    location = response.headers.get("Location", "")
    expect(location.endswith(f"{COLLECTION}/{notifier.id}"), f"create: Location {location!r}")
    return notifier


def renamed(client, created):
    response = partial_update.sync_detailed(
        created.id, client=client, body=NotifierWrite(name="hamgam_mail_edited")
    )
    notifier = expect_answer(response, HTTPStatus.OK, Notifier, "rename")
    expect_seed(notifier, "hamgam_mail_edited", "rename")
    expect_equal(notifier.id, created.id, "rename: id")
    expect_equal(notifier.created_at, created.created_at, "rename: created_at")
    expect(notifier.updated_at >= created.updated_at, "rename: updated_at went back")
    return notifier


def field_errors_are_parsed(client):
    response = create.sync_detailed(client=client, body=NotifierWrite())
    errors = expect_answer(response, HTTPStatus.BAD_REQUEST, FieldErrorsBody, "empty create")
    expected = {f: REQUIRED for f in ("name", "host", "username", "password", "from_email")}
    expect_equal(errors.additional_properties, expected, "empty create: field errors")
    expect_equal(list(errors.additional_keys), list(expected), "empty create: field order")


def limit_errors_are_parsed(client, notifier):
    response = partial_update.sync_detailed(notifier.id, client=client, body=NotifierWrite(port=0))
    errors = expect_answer(response, HTTPStatus.BAD_REQUEST, FieldErrorsBody, "port 0")
    expected = {"port": ["Ensure this value is greater than or equal to 1."]}
    expect_equal(errors.additional_properties, expected, "port 0: field errors")


def unknown_id_is_parsed(client):
    response = retrieve.sync_detailed(999_999_999, client=client)
    detail = expect_answer(response, HTTPStatus.NOT_FOUND, Detail, "unknown id")
    expect_equal(detail.detail, "No EmailNotifier matches the given query.", "unknown id: detail")


def list_page_is_parsed(client, notifier):
    response = list_.sync_detailed(client=client, search="hamgam", ordering="-name", page_size=10)
    page = expect_answer(response, HTTPStatus.OK, NotifierPage, "list")
    expect_type(page.count, int, "list: count")
    expect_equal(page.count, 1, "list: count")
    # The generator renames `next`, a Python builtin, to `next_`.
    expect(
        page.next_ is None and page.previous is None,
        f"list: links {page.next_!r}, {page.previous!r}",
    )
    expect_equal(len(page.results), 1, "list: results")
    expect_type(page.results[0], Notifier, "list: result")
    expect_equal(page.results[0].to_dict(), notifier.to_dict(), "list: result")

    response = list_.sync_detailed(client=client, page="2")
    detail = expect_answer(response, HTTPStatus.NOT_FOUND, Detail, "page past the end")
    expect_equal(detail.detail, "Invalid page.", "page past the end: detail")


def main():
    client = AuthenticatedClient(
        base_url=os.environ["NOTIFIER_URL"],
        token=os.environ["NOTIFIER_TOKEN"],
        prefix="Token",
        raise_on_unexpected_status=True,
    )
    try:
        with client:
            created = created_seed(client)
            notifier = renamed(client, created)
            field_errors_are_parsed(client)
            limit_errors_are_parsed(client, notifier)
            unknown_id_is_parsed(client)
            list_page_is_parsed(client, notifier)
    except CheckFailed as failure:
        print(f"generated client check failed: {failure}", file=sys.stderr)
        return 1
    print("the generated client parsed every answer as the schema describes it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
