//! Cron schedules as a Kubernetes CronJob takes them (the standard parser of
//! robfig/cron v3, which the API server runs): five fields, or a macro.
//!
//! | field | values |
//! |---|---|
//! | minute | 0-59 |
//! | hour | 0-23 |
//! | day of month | 1-31 |
//! | month | 1-12 or JAN-DEC |
//! | day of week | 0-6 or SUN-SAT (7 is refused: Sunday is 0) |
//!
//! A field is `*` (or `?`), a value, a range `low-high` with low ≤ high, any
//! of these with a step `/n` (n ≥ 1; `v/n` runs from v to the field's end),
//! or a comma-separated list of them. Names are case-insensitive. The
//! macros are `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
//! `@midnight`, `@hourly` and `@every <duration>` (Go syntax: `1h30m`).
//! A time zone in the schedule (`TZ=`, `CRON_TZ=`) is refused, as the API
//! server refuses it: CronJobs have a `timeZone` field.

/// The macros a schedule may be instead of five fields.
pub const MACROS: &[&str] = &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

const MONTHS: &[&str] = &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field: its name, its bounds and the names of its values (the first
/// name is the lowest value).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field { name: "minute", min: 0, max: 59, names: &[] },
    Field { name: "hour", min: 0, max: 23, names: &[] },
    Field { name: "day of month", min: 1, max: 31, names: &[] },
    Field { name: "month", min: 1, max: 12, names: MONTHS },
    Field { name: "day of week", min: 0, max: 6, names: WEEKDAYS },
];

/// Why `schedule` is not a schedule a CronJob accepts.
pub fn check(schedule: &str) -> Result<(), String> {
    if schedule.contains("TZ") {
        return Err("Kubernetes refuses a time zone (`TZ=` or `CRON_TZ=`) in a schedule".into());
    }
    if schedule.starts_with('@') {
        if MACROS.contains(&schedule) {
            return Ok(());
        }
        if let Some(duration) = schedule.strip_prefix("@every ") {
            return go_duration(duration);
        }
        let macros: Vec<String> = MACROS.iter().map(|m| format!("`{m}`")).collect();
        return Err(format!("the macros are {} and `@every <duration>`", macros.join(", ")));
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "it has {} field{}, not five (minute, hour, day of month, month, day of week)",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    for (text, field) in fields.iter().zip(&FIELDS) {
        for item in text.split(',') {
            check_item(item, field)?;
        }
    }
    Ok(())
}

/// One item of a field's list: `*`, `v` or `low-high`, each with an
/// optional `/step`.
fn check_item(item: &str, f: &Field) -> Result<(), String> {
    let what = format!("the {} `{item}`", f.name);
    if item.is_empty() {
        return Err(format!("the {} field has an empty list item", f.name));
    }
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (item, None),
    };
    if let Some(step) = step
        && number(step).is_none_or(|n| n < 1)
    {
        return Err(format!("{what} has a step that is not a whole number of 1 or more"));
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let (low, high) = match range.split_once('-') {
        Some((l, h)) => (l, Some(h)),
        None => (range, None),
    };
    let value = |text: &str| -> Result<u32, String> {
        let named = || f.names.iter().position(|n| n.eq_ignore_ascii_case(text)).map(|i| f.min + i as u32);
        // `the minute `H``, or `the minute `H-5`: `H``.
        let subject = if text == item { what.clone() } else { format!("{what}: `{text}`") };
        let v = number(text).or_else(named).ok_or_else(|| match (f.names.first(), f.names.last()) {
            (Some(first), Some(last)) => {
                format!("{subject} is neither a number nor a name ({}-{})", first.to_uppercase(), last.to_uppercase())
            }
            _ => format!("{subject} is not a number"),
        })?;
        if v < f.min || v > f.max {
            let sunday = if f.name == "day of week" && v == 7 { " (Sunday is 0)" } else { "" };
            return Err(format!("{what} is outside {}-{}{sunday}", f.min, f.max));
        }
        Ok(v)
    };
    let low = value(low)?;
    if let Some(high) = high {
        let high = value(high)?;
        if low > high {
            return Err(format!("{what} is a range that starts after it ends"));
        }
    }
    Ok(())
}

/// A whole number written in digits.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Too many digits for u32 is out of every field's range.
    Some(text.parse().unwrap_or(u32::MAX))
}

/// Why `text` is not a positive Go duration (`90s`, `1h30m`, `1.5h`).
fn go_duration(text: &str) -> Result<(), String> {
    let bad = || format!("`@every` needs a duration such as `30m` or `1h30m`, not `{text}`");
    let mut rest = text;
    let mut positive = false;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let (number, after) = rest.split_at(digits);
        let value: f64 = number.parse().map_err(|_| bad())?;
        positive |= value > 0.0;
        let unit = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        if !matches!(&after[..unit], "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return Err(bad());
        }
        rest = &after[unit..];
    }
    if positive { Ok(()) } else { Err(bad()) }
}

/// How often a valid schedule runs, for sizing what it keeps and for
/// noticing that it stopped: the longest wait between two runs, and the
/// most runs that fall in any window of `days` days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    pub longest_gap_minutes: u64,
    pub most_runs_in_window: u64,
}

/// Days looked at: four years hold every weekday on every date, leap day
/// included.
const HORIZON_DAYS: u64 = 4 * 365 + 1;
const MINUTES_PER_DAY: u64 = 1440;

/// The cadence of a schedule that [`check`] accepts (`None` otherwise, or
/// for a schedule that never runs, such as `0 0 31 2 *`).
pub fn cadence(schedule: &str, days: u64) -> Option<Cadence> {
    check(schedule).ok()?;
    let fields = match schedule {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => match schedule.strip_prefix("@every ") {
            Some(duration) => {
                let minutes = (go_duration_seconds(duration)? / 60.0).ceil().max(1.0) as u64;
                let window = days.saturating_mul(MINUTES_PER_DAY);
                return Some(Cadence { longest_gap_minutes: minutes, most_runs_in_window: window / minutes + 1 });
            }
            None => schedule,
        },
    };
    let parts: Vec<&str> = fields.split_whitespace().collect();
    let set = |i: usize| expand(parts[i], &FIELDS[i]);
    let (minutes, hours, (dom, dom_star), (months, _), (dow, dow_star)) = (set(0), set(1), set(2), set(3), set(4));
    let times: Vec<u64> = (0..24u64)
        .filter(|h| hours.0 >> h & 1 == 1)
        .flat_map(|h| (0..60u64).filter(move |m| minutes.0 >> m & 1 == 1).map(move |m| h * 60 + m))
        .collect();
    // 2026-01-01 is a Thursday; the calendar repeats its weekdays and
    // leap days well enough over four years for a bound.
    let mut run_days = Vec::new();
    let (mut year, mut month, mut day, mut weekday) = (2026u64, 1u64, 1u64, 4u64);
    for index in 0..HORIZON_DAYS {
        let dom_ok = dom >> day & 1 == 1;
        let dow_ok = dow >> weekday & 1 == 1;
        let day_ok = if dom_star || dow_star { dom_ok && dow_ok } else { dom_ok || dow_ok };
        if months >> month & 1 == 1 && day_ok {
            run_days.push(index);
        }
        weekday = (weekday + 1) % 7;
        day += 1;
        if day > days_in_month(year, month) {
            day = 1;
            month += 1;
            if month > 12 {
                month = 1;
                year += 1;
            }
        }
    }
    let (first, last) = (*times.first()?, *times.last()?);
    if run_days.is_empty() {
        return None;
    }
    let within_day = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    // Between run days (and around the horizon, which repeats).
    let across_days = run_days
        .windows(2)
        .map(|w| (w[1] - w[0]) * MINUTES_PER_DAY)
        .chain(std::iter::once((run_days[0] + HORIZON_DAYS - run_days[run_days.len() - 1]) * MINUTES_PER_DAY))
        .map(|d| d + first - last)
        .max()
        .unwrap_or(0);
    // Run days in any `days + 1` consecutive days bound the runs of any
    // window of `days` days.
    let span = days + 1;
    let mut most_days = 0;
    let mut start = 0;
    for (end, &d) in run_days.iter().enumerate() {
        while d - run_days[start] >= span {
            start += 1;
        }
        most_days = most_days.max(end - start + 1);
    }
    Some(Cadence {
        longest_gap_minutes: within_day.max(across_days),
        most_runs_in_window: (most_days as u64).saturating_mul(times.len() as u64),
    })
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The values a checked field takes (bit n for value n), and whether it is
/// unrestricted in robfig/cron's sense (`*` or `?` without a step), which
/// decides how day of month and day of week combine.
fn expand(text: &str, f: &Field) -> (u64, bool) {
    let value = |t: &str| {
        number(t).or_else(|| f.names.iter().position(|n| n.eq_ignore_ascii_case(t)).map(|i| f.min + i as u32))
    };
    let mut bits = 0u64;
    let mut star = false;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, number(s).unwrap_or(1).max(1)),
            None => (item, 1),
        };
        let (low, high) = if range == "*" || range == "?" {
            star |= step == 1;
            (f.min, f.max)
        } else {
            match range.split_once('-') {
                Some((l, h)) => (value(l).unwrap_or(f.min), value(h).unwrap_or(f.max)),
                // `v/n` runs from v to the field's end.
                None if step > 1 => (value(range).unwrap_or(f.min), f.max),
                None => {
                    let v = value(range).unwrap_or(f.min);
                    (v, v)
                }
            }
        };
        let mut v = low;
        while v <= high {
            bits |= 1 << v;
            v += step;
        }
    }
    (bits, star)
}

/// A Go duration (`90s`, `1h30m`, `1.5h`, `0s`) in seconds; None when
/// `text` is not one (no sign, every number with a unit).
pub fn go_duration_seconds(text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, after) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let scale = match &after[..unit] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &after[unit..];
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::{Cadence, cadence, check};

    #[test]
    fn go_durations() {
        use super::go_duration_seconds as d;
        assert_eq!(d("1h"), Some(3600.0));
        assert_eq!(d("1h30m"), Some(5400.0));
        assert_eq!(d("0s"), Some(0.0));
        assert_eq!(d("1.5h"), Some(5400.0));
        for bad in ["", "1", "1 hour", "h", "-1h", "1d", "1h-"] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    #[test]
    fn cadences() {
        let c = |s: &str, days: u64| cadence(s, days).map(|c| (c.longest_gap_minutes, c.most_runs_in_window));
        // Daily at 02:00: a day between runs; 8 runs touch any 7 days.
        assert_eq!(c("0 2 * * *", 7), Some((1440, 8)));
        assert_eq!(c("@daily", 7), Some((1440, 8)));
        // Every six hours.
        assert_eq!(c("0 */6 * * *", 1), Some((360, 8)));
        // Weekdays only: Friday to Monday is three days.
        assert_eq!(c("30 1 * * 1-5", 7), Some((3 * 1440, 6)));
        // Weekly, kept 7 days: two copies at most.
        assert_eq!(c("0 3 * * sun", 7), Some((7 * 1440, 2)));
        // Monthly on the 31st: from May 31 to July 31 is 61 days.
        assert_eq!(c("0 0 31 * *", 7).map(|c| c.0), Some(61 * 1440));
        // Day of month or day of week when both are restricted.
        assert_eq!(c("0 0 1 * 1", 31).map(|c| c.0 <= 7 * 1440), Some(true));
        assert_eq!(c("@every 90m", 1), Some((90, 17)));
        assert_eq!(c("0 0 30 2 *", 7), None);
        assert_eq!(c("not a schedule", 7), None);
        assert_eq!(cadence("@hourly", 1), Some(Cadence { longest_gap_minutes: 60, most_runs_in_window: 48 }));
    }

    #[test]
    fn kubernetes_schedules() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 0 1 1 *",
            "5,35 8-18/2 * * MON-FRI",
            "0 3 ? * sun",
            "0 0 * jan,Jul *",
            "30 4 1-7 * 1",
            "59 23 31 12 6",
            "0 */6 * * *",
            "7/20 * * * *",
            "0 2  *\t* *",
            "@daily",
            "@hourly",
            "@annually",
            "@every 1h30m",
            "@every 90s",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "61 * * * *",
            "*/0 * * * *",
            "5-1 * * * *",
            "0 0 * * 8",
            "0 0 * * 7",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 32 * *",
            "0 0 * 13 *",
            "0 0 * 0 *",
            "L",
            "H",
            "H * * * *",
            "0 0 L * *",
            "0 0 * * 5L",
            "0 0 * * 1#2",
            "0 0 15W * *",
            "* * * *",
            "* * * * * *",
            "",
            "1,,2 * * * *",
            "1- * * * *",
            "1-2-3 * * * *",
            "*/5/2 * * * *",
            "*/x * * * *",
            "+5 * * * *",
            "99999999999 * * * *",
            "0 0 * * SUN-",
            "0 0 * FOO *",
            "TZ=UTC 0 2 * * *",
            "CRON_TZ=Europe/Berlin 0 2 * * *",
            "@reboot",
            "@daily ",
            "@every",
            "@every ",
            "@every 0s",
            "@every 5",
            "@every 1d",
            "$(reboot) * * * *",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let why = |s: &str| check(s).unwrap_err();
        assert_eq!(why("61 * * * *"), "the minute `61` is outside 0-59");
        assert_eq!(why("0 0 * * 7"), "the day of week `7` is outside 0-6 (Sunday is 0)");
        assert_eq!(why("5-1 * * * *"), "the minute `5-1` is a range that starts after it ends");
        assert_eq!(why("*/0 * * * *"), "the minute `*/0` has a step that is not a whole number of 1 or more");
        assert_eq!(why("0 0 * FOO *"), "the month `FOO` is neither a number nor a name (JAN-DEC)");
        assert_eq!(why("0 0 * * MON-FOO"), "the day of week `MON-FOO`: `FOO` is neither a number nor a name (SUN-SAT)");
        assert_eq!(why("H * * * *"), "the minute `H` is not a number");
        assert_eq!(why("L"), "it has 1 field, not five (minute, hour, day of month, month, day of week)");
    }
}
