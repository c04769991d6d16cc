//! Periodic jobs: a schedule enqueues a task at each tick of a cron pattern in a
//! time zone. Ticks are taken by moving the schedule's next tick on (compare and
//! set) after enqueueing the tick's job under a unique key of the schedule and
//! tick, so racing schedulers in any number of workers enqueue one job per tick.
//!
//! A schedule found due later than its tick (no worker ran) catches up by its
//! `catch_up`: `latest` enqueues the latest missed tick once, `none` skips what
//! was missed and waits for the next tick.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A tick found this late after it was due counts as on time, not missed.
pub const ON_TIME: chrono::Duration = chrono::Duration::seconds(30);

/// What a schedule does with ticks missed while no worker ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CatchUp {
    /// Enqueue the latest missed tick, once.
    #[default]
    Latest,
    /// Skip them.
    None,
}

impl CatchUp {
    /// As stored: `latest` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::Latest => "latest",
            CatchUp::None => "none",
        }
    }
}

/// A schedule's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleSpec {
    /// A cron pattern: 5 fields (minute to weekday), or 6 with seconds first.
    pub cron: String,
    /// The IANA time zone its ticks are in (`Europe/Paris`); UTC by default.
    #[serde(default = "utc")]
    pub timezone: String,
    /// The task to enqueue, `component.task`.
    pub task_path: String,
    /// Its positional arguments.
    #[serde(default)]
    pub args: Vec<Value>,
    /// Its keyword arguments.
    #[serde(default)]
    pub kwargs: Map<String, Value>,
    /// The queue; the task's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_name: Option<String>,
    /// The priority; the task's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// What to do with missed ticks.
    #[serde(default)]
    pub catch_up: CatchUp,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// The ticks of a parsed cron pattern in a time zone.
#[derive(Debug, Clone)]
pub struct Ticks {
    cron: Cron,
    zone: chrono_tz::Tz,
}

impl Ticks {
    /// Parses `cron` in `timezone`, or says what is wrong with them.
    pub fn parse(cron: &str, timezone: &str) -> Result<Self, String> {
        let zone = chrono_tz::Tz::from_str(timezone).map_err(|_| {
            format!("unknown time zone `{timezone}`: use an IANA name such as UTC or Europe/Paris")
        })?;
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(cron)
            .map_err(|error| format!("invalid cron pattern `{cron}`: {error}"))?;
        Ok(Ticks { cron, zone })
    }

    /// The first tick strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.zone), false)
            .ok()
            .map(|tick| tick.with_timezone(&Utc))
    }

    /// The latest tick at or before `at`.
    pub fn latest_at(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&at.with_timezone(&self.zone), true)
            .ok()
            .map(|tick| tick.with_timezone(&Utc))
    }
}

/// What a due schedule does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Firing {
    /// The tick to enqueue a job for, if any.
    pub tick: Option<DateTime<Utc>>,
    /// The tick to wait for next.
    pub next: Option<DateTime<Utc>>,
}

impl Ticks {
    /// What a schedule whose next tick is `due` does at `now` (`due <= now`).
    pub fn fire(&self, due: DateTime<Utc>, now: DateTime<Utc>, catch_up: CatchUp) -> Firing {
        let latest = self
            .latest_at(now)
            .filter(|latest| *latest >= due)
            .unwrap_or(due);
        let on_time = now - latest <= ON_TIME;
        let tick = match catch_up {
            CatchUp::Latest => Some(latest),
            CatchUp::None => on_time.then_some(latest),
        };
        Firing {
            tick,
            next: self.next_after(now.max(latest)),
        }
    }
}

impl ScheduleSpec {
    /// Checks the pattern, the zone, the task path and the priority.
    pub fn check(&self) -> Result<Ticks, String> {
        crate::task::TaskPath::parse(&self.task_path).map_err(|error| error.to_string())?;
        if let Some(priority) = self.priority
            && !(wasmtasks_sandbox::MIN_PRIORITY..=wasmtasks_sandbox::MAX_PRIORITY)
                .contains(&priority)
        {
            return Err(format!("priority {priority} is outside -100..=100"));
        }
        Ticks::parse(&self.cron, &self.timezone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn ticks_follow_the_pattern_in_its_time_zone() {
        let nightly = Ticks::parse("0 3 * * *", "Europe/Paris").unwrap();
        // 03:00 in Paris is 02:00 UTC in winter.
        assert_eq!(
            nightly.next_after(at("2026-01-10T12:00:00Z")),
            Some(at("2026-01-11T02:00:00Z"))
        );
        assert_eq!(
            nightly.latest_at(at("2026-01-11T02:00:00Z")),
            Some(at("2026-01-11T02:00:00Z"))
        );
        let every_second = Ticks::parse("* * * * * *", "UTC").unwrap();
        assert_eq!(
            every_second.next_after(at("2026-01-10T12:00:00Z")),
            Some(at("2026-01-10T12:00:01Z"))
        );
    }

    #[test]
    fn missed_ticks_catch_up_once_or_are_skipped() {
        let minutely = Ticks::parse("* * * * *", "UTC").unwrap();
        let due = at("2026-01-10T12:00:00Z");
        // On time: that tick.
        let on_time = minutely.fire(due, at("2026-01-10T12:00:01Z"), CatchUp::None);
        assert_eq!(
            on_time,
            Firing {
                tick: Some(due),
                next: Some(at("2026-01-10T12:01:00Z"))
            }
        );
        // Ten ticks missed: the latest once, or none.
        let late = at("2026-01-10T12:10:40Z");
        let latest = minutely.fire(due, late, CatchUp::Latest);
        assert_eq!(
            latest,
            Firing {
                tick: Some(at("2026-01-10T12:10:00Z")),
                next: Some(at("2026-01-10T12:11:00Z"))
            }
        );
        let skipped = minutely.fire(due, late, CatchUp::None);
        assert_eq!(
            skipped,
            Firing {
                tick: None,
                next: Some(at("2026-01-10T12:11:00Z"))
            }
        );
    }

    #[test]
    fn bad_patterns_zones_and_paths_are_named() {
        assert!(
            Ticks::parse("61 * * * *", "UTC")
                .unwrap_err()
                .contains("invalid cron pattern `61 * * * *`")
        );
        assert!(
            Ticks::parse("* * * * *", "Mars/Olympus")
                .unwrap_err()
                .contains("unknown time zone `Mars/Olympus`")
        );
        let spec = ScheduleSpec {
            cron: "* * * * *".into(),
            timezone: utc(),
            task_path: "nodot".into(),
            args: Vec::new(),
            kwargs: Map::new(),
            queue_name: None,
            priority: None,
            catch_up: CatchUp::Latest,
        };
        assert!(spec.check().is_err());
    }
}
