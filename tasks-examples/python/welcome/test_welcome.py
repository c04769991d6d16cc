import json

import pytest
import welcome

from wasmtasks_guest import Component, TaskFailed


def test_renders_the_email() -> None:
    email = welcome.welcome("ada@example.com", "ada")
    assert email.to == "ada@example.com"
    assert email.subject == "Welcome, ada!"
    assert email.body.startswith("Hi ada,")


def test_declares_its_queue_priority_and_return_type() -> None:
    [definition] = Component.load("welcome").describe().tasks
    assert (definition.name, definition.queue_name, definition.priority) == (
        "welcome",
        "emails",
        10,
    )
    assert json.loads(definition.returns)["title"] == "WelcomeEmail"


def test_returns_the_email_as_a_json_object() -> None:
    kwargs = '{"user_email": "ada@example.com", "username": "ada"}'
    email = json.loads(Component.load("welcome").run("welcome", "[]", kwargs))
    assert email["to"] == "ada@example.com"
    assert email["subject"] == "Welcome, ada!"
    assert isinstance(email["body"], str)


def test_an_address_without_at_is_a_welcome_error() -> None:
    with pytest.raises(TaskFailed) as failed:
        Component.load("welcome").run("welcome", '["nobody", "ada"]')
    assert failed.value.exception_class_path == "welcome.WelcomeError"
    assert failed.value.message == """invalid email address "nobody": it has no '@'"""
