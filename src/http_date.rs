//! HTTP dates (RFC 9110 §5.6.7, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`): written by
//! the proxy in the API Gateway's `X-Date`, read by the client in a `Retry-After`. One
//! calendar for both directions, so the two cannot disagree on a leap year.

use alloc::string::String;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`). `month` is 1 to 12; a `day` past the month's end runs on into the
/// next month, as the arithmetic does. Exact for years within ±10^15.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Years start on 1 March, so that the leap day is the last day of a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month 1-12, day 1-31)` that is `days` days after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`), the inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (month <= 2) as i64, month as u32, day as u32)
}

/// The IMF-fixdate of `ms` milliseconds since the epoch, truncated to the second; the
/// epoch itself for a time before it or not finite (a date header has no negative years).
pub fn format(ms: f64) -> String {
    let secs = if ms.is_finite() && ms > 0.0 { (ms / 1000.0) as i64 } else { 0 };
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::new();
    out.push_str(WEEKDAYS[days.rem_euclid(7) as usize]);
    out.push_str(", ");
    two_digits(&mut out, day as i64);
    out.push(' ');
    out.push_str(MONTHS[(month as usize).clamp(1, 12) - 1]);
    out.push(' ');
    crate::error::push_number(&mut out, year.max(0) as u64);
    out.push(' ');
    two_digits(&mut out, of_day / 3600);
    out.push(':');
    two_digits(&mut out, of_day / 60 % 60);
    out.push(':');
    two_digits(&mut out, of_day % 60);
    out.push_str(" GMT");
    out
}

fn two_digits(out: &mut String, n: i64) {
    out.push((b'0' + (n / 10 % 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

/// Milliseconds since the epoch of an IMF-fixdate; `None` when it is not one. Lenient as
/// a reader may be: the weekday is not checked, the day may have one digit, and a day past
/// the month's end runs on into the next month. The year is an `i32`, which keeps the day
/// count exact; the milliseconds are counted in `f64`, which cannot overflow. The obsolete
/// RFC 850 and asctime forms are not read.
pub fn parse(date: &str) -> Option<f64> {
    let rest = date.split_once(',')?.1;
    let mut parts = rest.trim_start().split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == name)? as u32 + 1;
    let year: i32 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let seconds = days_from_civil(year as i64, month, day) as f64 * 86_400.0 + (h * 3600 + m * 60 + s) as f64;
    Some(seconds * 1000.0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Fixed points, each written as `date -u -d @SECONDS '+%a, %d %b %Y %H:%M:%S GMT'`
    /// (GNU coreutils) printed it; the first is RFC 9110's own example.
    const KNOWN: [(i64, &str); 9] = [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        // 2000 is a leap year (divisible by 400)...
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        // ...2100 is not (divisible by 100): 28 February is followed by 1 March.
        (4_107_456_000, "Sun, 28 Feb 2100 00:00:00 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (1_735_689_599, "Tue, 31 Dec 2024 23:59:59 GMT"),
        (1_795_645_800, "Wed, 25 Nov 2026 22:30:00 GMT"),
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ];

    #[test]
    fn known_dates_both_ways() {
        for (seconds, text) in KNOWN {
            assert_eq!(format(seconds as f64 * 1000.0), text);
            assert_eq!(parse(text), Some(seconds as f64 * 1000.0), "{text}");
        }
        // Milliseconds are truncated, not rounded.
        assert_eq!(format(784_111_777_999.0), "Sun, 06 Nov 1994 08:49:37 GMT");
        // The day after 28 February 2100, written as the 29th, is 1 March.
        assert_eq!(parse("Mon, 29 Feb 2100 00:00:00 GMT"), Some(4_107_542_400_000.0));
    }

    #[test]
    fn the_formatter_clamps_to_the_epoch() {
        for ms in [-1.0, -1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(format(ms), "Thu, 01 Jan 1970 00:00:00 GMT", "{ms}");
        }
    }

    #[test]
    fn the_parser_refuses_what_is_not_an_imf_fixdate() {
        for bad in [
            "",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 99999999999 08:49:37 GMT",
            "Sun, 06 Nov -9223372036854775808 08:49:37 GMT",
            // RFC 850 and asctime.
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // What it tolerates: another weekday, a one-digit day, a leap second.
        assert_eq!(parse("Mon, 6 Nov 1994 08:49:37 GMT"), Some(784_111_777_000.0));
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:60 GMT"), Some(784_111_800_000.0));
    }

    /// A second calendar, as plainly as it can be written: walks every day from 1 January
    /// 1600 (a Saturday) to 31 December 2400, counting days and weekdays one at a time.
    fn walk_days(mut visit: impl FnMut(i64, (i64, u32, u32), &str)) {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_days = |y: i64, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        // Days from 1600-01-01 to 1970-01-01, year by year.
        let mut days = -(1600..1970).map(|y| if leap(y) { 366 } else { 365 }).sum::<i64>();
        let weekdays = ["Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri"];
        let mut weekday = 0;
        for year in 1600..=2400 {
            for month in 1..=12 {
                for day in 1..=month_days(year, month) {
                    visit(days, (year, month, day), weekdays[weekday]);
                    days += 1;
                    weekday = (weekday + 1) % 7;
                }
            }
        }
    }

    #[test]
    fn the_calendar_agrees_with_counting_days_one_by_one() {
        let mut visited = 0;
        walk_days(|days, civil, _| {
            assert_eq!(days_from_civil(civil.0, civil.1, civil.2), days, "{civil:?}");
            assert_eq!(civil_from_days(days), civil, "{days}");
            visited += 1;
        });
        // 801 years, 195 of them leap years.
        assert_eq!(visited, 801 * 365 + 195);
    }

    #[test]
    fn format_and_parse_agree_with_counting_days_one_by_one() {
        let mut checked = 0;
        walk_days(|days, (year, month, day), weekday| {
            if days < 0 {
                return;
            }
            // A different time of day on each day.
            let of_day = (days * 7919).rem_euclid(86_400);
            let (h, m, s) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                [month as usize - 1];
            let text = alloc::format!("{weekday}, {day:02} {month} {year} {h:02}:{m:02}:{s:02} GMT");
            let ms = (days * 86_400 + of_day) as f64 * 1000.0;
            assert_eq!(format(ms), text);
            assert_eq!(parse(&text), Some(ms), "{text}");
            checked += 1;
        });
        assert_eq!(checked, days_from_civil(2401, 1, 1));
    }
}
