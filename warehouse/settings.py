"""One typed configuration object for the whole pipeline, with defaults that run."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Mapping

from linkage.engine import ENGINES, EngineChoice
from linkage.settings import MATCH_THRESHOLD
from sources.limits import IngestLimits


@dataclass(frozen=True)
class Settings:
    landing_dir: Path = Path("data/landing")
    warehouse_path: Path = Path("data/warehouse.duckdb")
    published_path: Path = Path("data/golden.duckdb")
    reports_dir: Path = Path("data/reports")
    # A pair links when its match probability is at least this.
    match_threshold: float = MATCH_THRESHOLD
    # Pairs in [review_lower, review_upper) are queued for an analyst to decide.
    review_lower: float = 0.5
    review_upper: float = 0.95
    # Where a person's records also hold a no, a yes counts only from a record linked at
    # least this surely (warehouse/consent.py). Measured at 100,000 persons: 0.8 keeps the
    # right consent for 247 more correctly linked persons than 0.95 and lets 12 more unsafe
    # yes through (benchmarks/RESULTS.md, "consent").
    consent_sure_probability: float = 0.8
    # DuckDB works within this and spills the rest to disk beside the warehouse file.
    memory_limit: str = "4GB"
    # What a delivery is held to (sources.limits explains each bound).
    max_value_length: int = IngestLimits.max_value_length
    max_free_text_length: int = IngestLimits.max_free_text_length
    snapshot_max_deleted_share: float = IngestLimits.snapshot_max_deleted_share
    snapshot_max_rejected_share: float = IngestLimits.snapshot_max_rejected_share

    # A daily export older than this is late: the asset check export_arrived warns.
    max_export_age_hours: float = 36.0

    # Outboxes of routed changes (warehouse/outbox.py); None: `outbox/` beside the published file.
    outbox_dir: Path | None = None
    # A TOML file that replaces DEFAULT_ROUTING when it exists; None: `routing.toml` beside the published file.
    routing_file: Path | None = None
    # Which recipient gets which change (warehouse/routing.py reads and checks it): a change
    # type of customer_changes, or `updated.<column>` for one updated column.
    DEFAULT_ROUTING: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({
        # The marketing tool: whom it may mail, at which address, and whose id is gone.
        "consent_given": ("marketing",),
        "consent_withdrawn": ("marketing",),
        "updated.consent_email": ("marketing",),
        # The shop: where its customers live now.
        "updated.street": ("shop",),
        "updated.house_number": ("shop",),
        "updated.postal_code": ("shop",),
        "updated.city": ("shop",),
        "updated.country": ("shop",),
        # Both: an id that went into another must be followed, an erased person deleted there
        # too (the controller tells every recipient of the data, GDPR art. 19).
        "merged": ("marketing", "shop"),
        "erased": ("marketing", "shop"),
    })

    def outbox_root(self) -> Path:
        return self.outbox_dir if self.outbox_dir is not None else self.published_path.parent / "outbox"

    def routing_path(self) -> Path:
        return self.routing_file if self.routing_file is not None else self.published_path.parent / "routing.toml"
    # The linkage model (linkage/model_store.py) is re-fitted when it is older than this,
    # when more than this share of the records is new or changed since the last run, or
    # when a run asks for it (`kundenstamm run --refit`); otherwise runs link only the delta.
    refit_after_hours: float = 24.0
    refit_max_new_share: float = 0.2
    refit: bool = False
    # Where the linkage stage (blocking, scoring, clustering) runs: `duckdb` in the warehouse
    # file, or `spark` (linkage/engine): local mode, or the cluster `spark_master` names.
    engine: str = "duckdb"
    spark_master: str | None = None

    def ingest_limits(self) -> IngestLimits:
        return IngestLimits(self.max_value_length, self.max_free_text_length,
                            self.snapshot_max_deleted_share, self.snapshot_max_rejected_share)

    def engine_choice(self) -> EngineChoice:
        """The linkage stage's engine; Spark's Parquet files beside the warehouse file."""
        return EngineChoice(self.engine, self.spark_master,
                            self.warehouse_path.parent / f"{self.warehouse_path.name}.spark")

    def refit_policy(self) -> dict:
        """What `linkage.delta.plan_linkage` decides a re-fit by."""
        return {"refit_requested": self.refit, "refit_after_hours": self.refit_after_hours,
                "max_new_share": self.refit_max_new_share}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, overridden by KUNDENSTAMM_* environment variables, then by `overrides`."""
        environ = dict(os.environ if environ is None else environ)
        env_names = {
            "landing_dir": "KUNDENSTAMM_LANDING_DIR",
            "warehouse_path": "KUNDENSTAMM_WAREHOUSE",
            "published_path": "KUNDENSTAMM_PUBLISHED",
            "reports_dir": "KUNDENSTAMM_REPORTS_DIR",
            "match_threshold": "KUNDENSTAMM_MATCH_THRESHOLD",
            "review_lower": "KUNDENSTAMM_REVIEW_LOWER",
            "review_upper": "KUNDENSTAMM_REVIEW_UPPER",
            "consent_sure_probability": "KUNDENSTAMM_CONSENT_SURE_PROBABILITY",
            "memory_limit": "KUNDENSTAMM_MEMORY_LIMIT",
            "max_value_length": "KUNDENSTAMM_MAX_VALUE_LENGTH",
            "max_export_age_hours": "KUNDENSTAMM_MAX_EXPORT_AGE_HOURS",
            "max_free_text_length": "KUNDENSTAMM_MAX_FREE_TEXT_LENGTH",
            "snapshot_max_deleted_share": "KUNDENSTAMM_SNAPSHOT_MAX_DELETED_SHARE",
            "snapshot_max_rejected_share": "KUNDENSTAMM_SNAPSHOT_MAX_REJECTED_SHARE",
            "outbox_dir": "KUNDENSTAMM_OUTBOX_DIR",
            "routing_file": "KUNDENSTAMM_ROUTING_FILE",
            "refit_after_hours": "KUNDENSTAMM_REFIT_AFTER_HOURS",
            "refit_max_new_share": "KUNDENSTAMM_REFIT_MAX_NEW_SHARE",
            "refit": "KUNDENSTAMM_REFIT",
            "engine": "KUNDENSTAMM_ENGINE",
            "spark_master": "KUNDENSTAMM_SPARK_MASTER",
        }
        settings = cls()
        values = {}
        for field in fields(cls):
            raw = environ.get(env_names[field.name])
            if raw is not None and raw != "":
                values[field.name] = _coerce(field.name, raw)
        values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
        return replace(settings, **values)


_PATH_FIELDS = {"landing_dir", "warehouse_path", "published_path", "reports_dir", "outbox_dir", "routing_file"}


def _coerce(name: str, value):
    if name in _PATH_FIELDS:
        return Path(value)
    if name in {"memory_limit", "spark_master"}:
        return str(value)
    if name == "engine":
        engine = str(value).strip().lower()
        if engine not in ENGINES:
            raise ValueError(f"KUNDENSTAMM_ENGINE={value!r}: one of {', '.join(ENGINES)}")
        return engine
    if name in {"max_value_length", "max_free_text_length"}:
        return int(value)
    if name == "refit":
        return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes"}
    return float(value)
