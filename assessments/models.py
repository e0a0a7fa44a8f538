"""The common core assessment: the instrument is data (versioned templates), not code."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from cases.models import Person
from csf_portal.models import Agency, TimeStampedModel


class AssessmentTemplate(TimeStampedModel):
    """One version of the instrument. A change makes a new version; old ones stay."""

    name = models.CharField(max_length=150)
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="template_name_version"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(is_current=True), name="one_current_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class TemplateItem(models.Model):
    """A scored domain of the instrument: a question, its answer options and weighting."""

    template = models.ForeignKey(AssessmentTemplate, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(max_length=60)
    domain = models.CharField(max_length=150)
    question = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    options = models.JSONField(help_text='[{"value": 0, "label": "..."}, ...]')
    weight = models.PositiveSmallIntegerField(default=1)
    counts_double = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "code"], name="template_item_code")
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def multiplier(self) -> int:
        return self.weight * (2 if self.counts_double else 1)

    @property
    def values(self) -> list[int]:
        return [int(o["value"]) for o in self.options]

    def points(self, score: int) -> int:
        return score * self.multiplier


class Assessment(TimeStampedModel):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        COMPLETED = "completed", "Completed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assessments")
    template = models.ForeignKey(AssessmentTemplate, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    total_score = models.IntegerField(null=True, blank=True)
    max_score = models.IntegerField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-completed_at", "-created_at"]
        indexes = [models.Index(fields=["person", "state", "-completed_at"])]

    def __str__(self) -> str:
        return f"Assessment of {self.person} ({self.get_state_display()})"


class AssessmentAnswer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(TemplateItem, on_delete=models.PROTECT, related_name="+")
    score = models.SmallIntegerField(null=True, blank=True)
    narrative = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="one_answer_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.score}"
