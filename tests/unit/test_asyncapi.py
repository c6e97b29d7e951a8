"""The published AsyncAPI description is the one the code builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.contracts.asyncapi import document

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def test_docs_asyncapi_matches_the_contract_structs() -> None:
    assert yaml.safe_load(DOC.read_text(encoding="utf-8")) == document(), (
        "docs/asyncapi.yaml is stale: run `chibo asyncapi > docs/asyncapi.yaml`"
    )


def test_every_channel_names_a_payload_schema_that_exists() -> None:
    doc = document()
    schemas = doc["components"]["schemas"]
    for name, channel in doc["channels"].items():
        ref = channel["messages"]["message"].get("payload", {}).get("$ref")
        if ref is not None:
            assert ref.rsplit("/", 1)[1] in schemas, name
