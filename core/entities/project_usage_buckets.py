"""Project usage buckets: aggregated usage per period, by `period_end` (a DATE: a bucket
qualifies when its last day is before the cutoff's date), as the platform's `usage_buckets`
category. Their `usage_bucket_entries` have no foreign key (bucket_id, with bucket_type
'project' saying which bucket table) and go with their bucket, counted."""

from __future__ import annotations

import sqlalchemy as sa

from core.backendai.variants import per_release, variant
from core.repository.pruner import Link, Pruner

NAME = "project_usage_buckets"
CATEGORY = "usage_buckets"

VARIANTS: tuple[Pruner, ...] = per_release(lambda s: variant(
    s.model, name=NAME, table=s.project_usage_buckets, terminal=sa.true(), timestamp="period_end",
    links=(Link(s.usage_bucket_entries, "bucket_id", "bucket_type", "project", rbac=False),),
    description="Project usage buckets (and their entries) whose period ended before the "
                "cutoff"))
