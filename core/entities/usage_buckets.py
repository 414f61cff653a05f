"""Usage buckets of users, projects and domains: aggregated usage per period, by `period_end`
(a DATE: a bucket qualifies when its last day is before the cutoff's date), as the platform's
`usage_buckets` category. Their `usage_bucket_entries` have no foreign key (`bucket_id`, with
`bucket_type` naming the bucket table) and go with their bucket, counted."""

from __future__ import annotations

from core.backendai.kinds import Entity, usage_buckets

ENTITIES: tuple[Entity, ...] = tuple(
    Entity(f"{kind}_usage_buckets", "usage_buckets", usage_buckets(f"{kind}_usage_buckets", kind))
    for kind in ("user", "project", "domain"))
