"""The expected golden values, computed from the record versions that were actually
written, by the rules in docs/ARCHITECTURE.md (so nothing hidden decides the answer)."""

from __future__ import annotations

import numpy as np
import pandas as pd


TRUTH_COLUMNS = ("person_id", "salutation", "first_name", "last_name", "email", "phone", "street", "house_number",
                 "postal_code", "city", "country", "marketing_consent", "consent_source", "total_revenue", "erased")


def live_records(versions: pd.DataFrame, day: int) -> pd.DataFrame:
    """The record versions a correct pipeline holds after the deliveries of days 1..day."""
    ok = versions[~versions["malformed"]]
    snapshots = ok[ok["source"].isin(["shop", "newsletter"]) & (ok["day"] == day)]
    # A snapshot row that cannot be read keeps the account's row from the snapshot before
    # (the pipeline never deletes an account because its row was damaged).
    damaged = versions[versions["malformed"] & versions["source"].isin(["shop", "newsletter"]) & (versions["day"] == day)]
    earlier = ok[ok["source"].isin(["shop", "newsletter"]) & (ok["day"] < day)].sort_values("day")
    carried = earlier[earlier.set_index(["source", "record_id"]).index.isin(damaged.set_index(["source", "record_id"]).index)]
    snapshots = pd.concat([snapshots, carried.drop_duplicates(["source", "record_id"], keep="last")], ignore_index=True)
    cards = ok[(ok["source"] == "pos") & (ok["day"] <= day)].sort_values("day").drop_duplicates("record_id", keep="last")
    tickets = ok[(ok["source"] == "hotline") & (ok["day"] <= day)].drop_duplicates("record_id")
    return pd.concat([snapshots, cards, tickets], ignore_index=True)


def _same_spelling(emitted: pd.Series, true: pd.Series) -> pd.Series:
    return emitted.fillna("").str.strip().str.lower() == true.fillna("").str.lower()


def expected_persons(live: pd.DataFrame, persons: pd.DataFrame, erased: set[str]) -> pd.DataFrame:
    live = live.copy()
    live["person_id"] = persons["person_id"].values[live["person"].values]
    live = live.sort_values(["t_record", "source", "record_id"])
    out = pd.DataFrame(index=pd.Index(sorted(live["person_id"].unique()), name="person_id"))

    out["salutation"] = live["salutation_emitted"].notna().groupby(live["person_id"]).any()
    true = persons.set_index("person_id")
    out["salutation"] = np.where(out["salutation"], true.loc[out.index, "salutation"], None)

    first_ok = _same_spelling(live["first_emitted"], live["first_true"]).groupby(live["person_id"]).any()
    out["first_name"] = true.loc[out.index, "first_name"].where(first_ok.reindex(out.index, fill_value=False))
    named = live[live["last_emitted"].notna()]
    current_last = named.groupby("person_id")["last_true"].last()
    spelled = _same_spelling(named["last_emitted"], named["person_id"].map(current_last)).groupby(named["person_id"]).any()
    out["last_name"] = current_last.where(spelled.reindex(current_last.index, fill_value=False)).reindex(out.index)

    mail = live[live["email_emitted"].notna() & ~live["bounced"].astype(bool)]
    out["email"] = mail.groupby("person_id")["email_emitted"].last().str.strip().str.lower().reindex(out.index)

    phones = live[live["phone_e164"].notna()]
    out["phone"] = phones.groupby("person_id")["phone_e164"].last().reindex(out.index)

    with_street = live[live["street_emitted"].notna()]
    addressed = with_street.groupby("person_id").last()
    # A street is expected in its true spelling only where a record at that address wrote it
    # so (abbreviations aside); a typo in every record cannot be undone.
    written = (with_street["street_emitted"].str.lower().str.replace(r"\s*[0-9].*$", "", regex=True)
               .str.replace(r"(str\.?|strasse)$", "straße", regex=True).str.replace(" ", ""))
    at_latest = with_street["street_true"].values == with_street["person_id"].map(addressed["street_true"]).values
    spelled = (written == with_street["street_true"].str.lower().str.replace(" ", "")) & at_latest
    spelled = spelled.groupby(with_street["person_id"]).any()
    out["street"] = addressed["street_true"].where(spelled.reindex(addressed.index, fill_value=False)).reindex(out.index)
    out["house_number"] = addressed["house_true"].str.lower().reindex(out.index)
    out["postal_code"] = addressed["postal_true"].reindex(out.index)
    out["city"] = addressed["city_true"].reindex(out.index)
    out["country"] = addressed["country_true"].reindex(out.index)

    # The latest decision; two at the same moment that disagree are no decision for a yes
    # (the contract's "in doubt, no"), so on a tie the no sorts last and wins.
    decided = live[live["consent_decision"].notna() & live["consent_at"].notna()]
    decided = decided.assign(_no_last=decided["consent_decision"] != "yes").sort_values(["consent_at", "_no_last"], kind="stable")
    latest = decided.groupby("person_id").last()
    out["marketing_consent"] = (latest["consent_decision"] == "yes").reindex(out.index, fill_value=False)
    out["consent_source"] = latest["source"].reindex(out.index)

    money = live[live["source"].isin(["shop", "pos"])]
    out["total_revenue"] = money.groupby("person_id")["revenue"].sum().round(2).reindex(out.index).fillna(0.0)
    out["erased"] = out.index.isin(erased)
    return out.reset_index()[list(TRUTH_COLUMNS)]


def record_lifetimes(versions: pd.DataFrame, persons: pd.DataFrame, days: int) -> pd.DataFrame:
    spans = []
    for day in range(1, days + 1):
        live = live_records(versions, day)[["source", "record_id", "person"]].drop_duplicates()
        live["day"] = day
        spans.append(live)
    spans = pd.concat(spans)
    out = spans.groupby(["source", "record_id", "person"])["day"].agg(["min", "max"]).reset_index()
    out["person_id"] = persons["person_id"].values[out["person"].values]
    return out.rename(columns={"record_id": "source_record_id", "min": "first_day", "max": "last_day"})[
        ["source", "source_record_id", "person_id", "first_day", "last_day"]]
