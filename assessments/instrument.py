"""The first version of the common core assessment, applied by a data migration.

The areas practitioners use (accommodation, drugs, alcohol, mental and physical
health, offending, risk to self, to others and from others, engagement, money,
relationships, daily living, meaningful use of time: fourteen items), each a
0-4 severity over the past month with narrative. As in a chaos-index total,
the three risk items count double.
"""

from __future__ import annotations

from typing import Any

NAME = "Common core assessment"

SEVERITY = [
    {"value": 0, "label": "0 – No problem"},
    {"value": 1, "label": "1 – Some concern, managing"},
    {"value": 2, "label": "2 – Moderate problem"},
    {"value": 3, "label": "3 – Severe problem"},
    {"value": 4, "label": "4 – Crisis or extreme"},
]

ITEMS = [
    ("accommodation", "Accommodation", "How settled and safe is where they live?", False),
    ("drugs", "Substance misuse: drugs", "How much harm is drug use causing?", False),
    ("alcohol", "Substance misuse: alcohol", "How much harm is drinking causing?", False),
    ("mental-health", "Mental health", "How much is their mental health affecting them?", False),
    ("physical-health", "Physical health", "How well is their physical health managed?", False),
    ("offending", "Offending", "How much offending, or risk of it, is there?", False),
    ("risk-to-self", "Risk to self", "How serious is the risk they pose to themselves?", True),
    ("risk-to-others", "Risk to others", "How serious is the risk they pose to others?", True),
    ("risk-from-others", "Risk from others", "How serious is the risk others pose to them?", True),
    (
        "engagement",
        "Engagement with services",
        "How far do services and they manage to work together?",
        False,
    ),
    ("money", "Money and benefits", "How well are money, benefits and debts managed?", False),
    (
        "relationships",
        "Social network and relationships",
        "How supportive are their relationships?",
        False,
    ),
    (
        "daily-living",
        "Daily living",
        "How well do they manage eating, hygiene and their home?",
        False,
    ),
    (
        "meaningful-time",
        "Meaningful use of time",
        "How much of their time is spent in ways that matter to them?",
        False,
    ),
]


def sync_assessment_template(apps: Any, schema_editor: Any) -> None:
    """Create version 1 if no version of the instrument exists yet (idempotent)."""
    Template = apps.get_model("assessments", "AssessmentTemplate")
    Item = apps.get_model("assessments", "TemplateItem")
    if Template.objects.filter(name=NAME).exists():
        return
    template = Template.objects.create(
        name=NAME,
        version=1,
        is_current=True,
        description="Severity over the past month, 0 to 4, in each area. Risk items count double.",
    )
    for order, (code, domain, question, double) in enumerate(ITEMS, start=1):
        Item.objects.create(
            template=template,
            code=code,
            domain=domain,
            question=question,
            options=SEVERITY,
            counts_double=double,
            order=order,
        )
