//! Monthly included credits: the plan table (shipped as dated data, editable), the billing month
//! (whoami's `periodEnd`, else the calendar month), and what is left by this app's own records.
//! No Tauri here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::AppResult;
use crate::history::ledger::{civil_from_days, days_from_civil};
use crate::settings::{get_typed, set_typed, Store};

pub const KEY_CREDITS: &str = "credits";

/// Included credits per month in USD, as Hugging Face stated them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PlanTable {
    pub source: String,
    pub stated_on: String,
    pub note: String,
    pub free: f64,
    pub pro: f64,
    pub team_per_seat: f64,
    pub enterprise_per_seat: f64,
}

#[derive(Deserialize)]
struct PlanFile {
    source: String,
    stated_on: String,
    note: String,
    free: f64,
    pro: f64,
    team_per_seat: f64,
    enterprise_per_seat: f64,
}

/// The table shipped with the app (`data/plans.json`).
pub fn shipped_plans() -> PlanTable {
    let f: PlanFile =
        serde_json::from_str(include_str!("data/plans.json")).expect("data/plans.json is valid");
    PlanTable {
        source: f.source,
        stated_on: f.stated_on,
        note: f.note,
        free: f.free,
        pro: f.pro,
        team_per_seat: f.team_per_seat,
        enterprise_per_seat: f.enterprise_per_seat,
    }
}

/// The user's corrections and choices, kept in the settings store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct CreditSettings {
    /// Replaces the plan table's figure for this account (Hugging Face changes them).
    pub included_override: Option<f64>,
    /// Usage elsewhere this month (Hub widgets, the web playground, other apps), in USD.
    pub outside_usage: f64,
    /// The month (`YYYY-MM` of its start) `outside_usage` was entered for; it resets after.
    pub outside_usage_month: Option<String>,
    /// Warn at 80 %, ask before sending at 100 %.
    pub monthly_budget: Option<f64>,
    /// The month in which a call answered 402: "used up" until it resets.
    pub depleted_month: Option<String>,
}

impl CreditSettings {
    pub fn load(store: &dyn Store) -> Self {
        get_typed(store, KEY_CREDITS).unwrap_or_default()
    }
    pub fn save(&self, store: &dyn Store) -> AppResult<()> {
        set_typed(store, KEY_CREDITS, self)
    }
}

/// A billing month: `[start, end)` in Unix ms, and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub start: i64,
    pub end: i64,
}

impl Month {
    /// `YYYY-MM` of the month's start (UTC).
    pub fn label(&self) -> String {
        let (y, m, _) = civil_from_days(self.start.div_euclid(86_400_000));
        format!("{y:04}-{m:02}")
    }
}

/// Adds `months` to a (year, month) pair.
fn add_months(y: i64, m: u32, months: i64) -> (i64, u32) {
    let idx = y * 12 + i64::from(m) - 1 + months;
    (idx.div_euclid(12), (idx.rem_euclid(12) + 1) as u32)
}

/// The billing month containing `now_ms`: ending at whoami's `periodEnd` (Unix seconds) when
/// it is given and in the future, else the calendar month (UTC).
pub fn billing_month(now_ms: i64, period_end: Option<i64>) -> Month {
    if let Some(end_s) = period_end {
        let end = end_s * 1000;
        if end > now_ms {
            // The period started one month before its end, same day and time.
            let days = end.div_euclid(86_400_000);
            let time = end.rem_euclid(86_400_000);
            let (y, m, d) = civil_from_days(days);
            let (py, pm) = add_months(y, m, -1);
            let d = d.min(days_in_month(py, pm));
            let start = days_from_civil(py, pm, d) * 86_400_000 + time;
            if start <= now_ms {
                return Month { start, end };
            }
        }
    }
    let (y, m, _) = civil_from_days(now_ms.div_euclid(86_400_000));
    let (ny, nm) = add_months(y, m, 1);
    Month {
        start: days_from_civil(y, m, 1) * 86_400_000,
        end: days_from_civil(ny, nm, 1) * 86_400_000,
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = add_months(y, m, 1);
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// Who is billed, for the credits figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Payer {
    Free,
    Pro,
    Org {
        name: String,
        plan: Option<String>,
        seats: u32,
    },
}

/// The meter: what this app spent from HF credits this month, what is included, what is left.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CreditStatus {
    pub payer: Payer,
    /// Included this month, USD (from the plan table or the user's override).
    pub included: f64,
    /// Whether `included` is the user's figure rather than the table's.
    pub included_overridden: bool,
    /// Whether `included` is Hugging Face's own figure for this period (its last answer to
    /// usage-v2) rather than the plan table's.
    pub included_from_hf: bool,
    /// Spent through HF credits by this app this month (from the ledger).
    pub spent_app: f64,
    /// Usage elsewhere entered by the user.
    pub outside_usage: f64,
    /// `included - spent_app - outside_usage`, never below 0.
    pub remaining: f64,
    /// A 402 was seen this month.
    pub used_up: bool,
    /// Unix ms when the month resets.
    #[ts(type = "number")]
    pub resets_at: i64,
    #[ts(type = "number")]
    pub month_start: i64,
    pub month_label: String,
    /// Whether the reset date comes from Hugging Face (`periodEnd`) or the calendar.
    pub reset_from_hf: bool,
    pub budget: Option<f64>,
    /// Spent (app + outside) as a share of the budget, 0..; `None` without a budget.
    pub budget_used: Option<f64>,
    pub plans: PlanTable,
}

/// Included credits for a payer.
pub fn included(plans: &PlanTable, payer: &Payer) -> f64 {
    match payer {
        Payer::Free => plans.free,
        Payer::Pro => plans.pro,
        Payer::Org { plan, seats, .. } => {
            let per_seat = if plan.as_deref() == Some("enterprise") {
                plans.enterprise_per_seat
            } else {
                plans.team_per_seat
            };
            per_seat * f64::from((*seats).max(1))
        }
    }
}

/// The meter. What is included comes from the user's override, else Hugging Face's figure for
/// this period (`hf_included`, USD), else the plan table: the table is the fallback for when
/// Hugging Face has not answered.
#[allow(clippy::too_many_arguments)]
pub fn status(
    plans: PlanTable,
    settings: &CreditSettings,
    payer: Payer,
    month: Month,
    reset_from_hf: bool,
    spent_app: f64,
    hf_included: Option<f64>,
) -> CreditStatus {
    let label = month.label();
    let (included, overridden, from_hf) = match (settings.included_override, hf_included) {
        (Some(v), _) if v >= 0.0 => (v, true, false),
        (_, Some(v)) if v.is_finite() && v >= 0.0 => (v, false, true),
        _ => (included(&plans, &payer), false, false),
    };
    let outside = if settings.outside_usage_month.as_deref() == Some(label.as_str()) {
        settings.outside_usage.max(0.0)
    } else {
        0.0
    };
    let used_up = settings.depleted_month.as_deref() == Some(label.as_str());
    let remaining = if used_up {
        0.0
    } else {
        (included - spent_app - outside).max(0.0)
    };
    let budget = settings.monthly_budget.filter(|b| *b > 0.0);
    CreditStatus {
        payer,
        included,
        included_overridden: overridden,
        included_from_hf: from_hf,
        spent_app,
        outside_usage: outside,
        remaining,
        used_up,
        resets_at: month.end,
        month_start: month.start,
        month_label: label,
        reset_from_hf,
        budget,
        budget_used: budget.map(|b| (spent_app + outside) / b),
        plans,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * 86_400_000
    }

    #[test]
    fn the_plan_table_is_the_stated_one() {
        let p = shipped_plans();
        assert_eq!((p.free, p.pro, p.team_per_seat), (0.10, 2.00, 2.00));
        assert_eq!(p.stated_on, "2025-08-22");
        assert_eq!(included(&p, &Payer::Free), 0.10);
        assert_eq!(
            included(
                &p,
                &Payer::Org {
                    name: "acme".into(),
                    plan: Some("team".into()),
                    seats: 5
                }
            ),
            10.0
        );
    }

    #[test]
    fn calendar_month_boundaries() {
        let m = billing_month(ms(2026, 11, 24) + 5000, None);
        assert_eq!((m.start, m.end), (ms(2026, 11, 1), ms(2026, 12, 1)));
        assert_eq!(m.label(), "2026-11");
        let dec = billing_month(ms(2026, 12, 31) + 86_399_999, None);
        assert_eq!((dec.start, dec.end), (ms(2026, 12, 1), ms(2027, 1, 1)));
        // The first millisecond of a month belongs to it.
        assert_eq!(billing_month(ms(2027, 1, 1), None).label(), "2027-01");
    }

    #[test]
    fn period_end_from_whoami_sets_the_reset() {
        // periodEnd 2026-12-15 00:00 UTC: the month runs from 2026-11-15.
        let end_s = ms(2026, 12, 15) / 1000;
        let m = billing_month(ms(2026, 11, 24), Some(end_s));
        assert_eq!((m.start, m.end), (ms(2026, 11, 15), ms(2026, 12, 15)));
        // A period end in the past is ignored: calendar month.
        let m = billing_month(ms(2026, 11, 24), Some(ms(2026, 11, 1) / 1000));
        assert_eq!(m.start, ms(2026, 11, 1));
        // End on the 31st: the start is clamped to the previous month's last day.
        let m = billing_month(ms(2027, 3, 10), Some(ms(2027, 3, 31) / 1000));
        assert_eq!(m.start, ms(2027, 2, 28));
    }

    #[test]
    fn remaining_counts_outside_usage_and_402() {
        let month = billing_month(ms(2026, 11, 24), None);
        let mut s = CreditSettings {
            outside_usage: 0.03,
            outside_usage_month: Some("2026-11".into()),
            monthly_budget: Some(0.05),
            ..CreditSettings::default()
        };
        let st = status(shipped_plans(), &s, Payer::Free, month, false, 0.02, None);
        assert!((st.remaining - 0.05).abs() < 1e-12, "{st:?}");
        assert!((st.budget_used.unwrap() - 1.0).abs() < 1e-12);
        // Outside usage of an earlier month no longer counts.
        s.outside_usage_month = Some("2026-10".into());
        let st = status(shipped_plans(), &s, Payer::Free, month, false, 0.02, None);
        assert!((st.remaining - 0.08).abs() < 1e-12);
        // A 402 this month: used up, whatever the arithmetic says.
        s.depleted_month = Some("2026-11".into());
        let st = status(shipped_plans(), &s, Payer::Pro, month, false, 0.0, None);
        assert!(st.used_up);
        assert_eq!(st.remaining, 0.0);
        // An override replaces the table.
        s.depleted_month = None;
        s.included_override = Some(1.0);
        let st = status(shipped_plans(), &s, Payer::Free, month, false, 0.25, None);
        assert!(st.included_overridden);
        assert!((st.remaining - 0.75).abs() < 1e-12);
        // Hugging Face's figure replaces the table (not the user's override): $0 is a figure.
        let st = status(
            shipped_plans(),
            &s,
            Payer::Free,
            month,
            false,
            0.25,
            Some(0.0),
        );
        assert!(st.included_overridden && !st.included_from_hf);
        s.included_override = None;
        let st = status(
            shipped_plans(),
            &s,
            Payer::Free,
            month,
            false,
            0.25,
            Some(0.0),
        );
        assert!(st.included_from_hf && !st.included_overridden);
        assert_eq!((st.included, st.remaining), (0.0, 0.0));
        let st = status(
            shipped_plans(),
            &s,
            Payer::Pro,
            month,
            false,
            0.5,
            Some(2.0),
        );
        assert!((st.remaining - 1.5).abs() < 1e-12);
    }
}
