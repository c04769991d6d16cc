"""The welcome-email task: renders the email a new user receives.

It runs on the `emails` queue at priority 10, and fails with
`welcome.WelcomeError` when the address has no `@`, which shows how a task's
exception class becomes the class path the host records.
"""

import json
from dataclasses import dataclass

from wasmtasks_guest import task


@dataclass(frozen=True)
class WelcomeEmail:
    """The rendered email."""

    to: str
    subject: str
    body: str


class WelcomeError(Exception):
    """Why a welcome email cannot be rendered."""


@task(queue_name="emails", priority=10)
def welcome(user_email: str, username: str) -> WelcomeEmail:
    """Renders the welcome email for `username` at `user_email`."""
    if "@" not in user_email:
        raise WelcomeError(f"invalid email address {json.dumps(user_email)}: it has no '@'")
    return WelcomeEmail(
        to=user_email,
        subject=f"Welcome, {username}!",
        body=f"Hi {username},\n\nyour account is ready. We are glad to have you.\n\nThe team",
    )
